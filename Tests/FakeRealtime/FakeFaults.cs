namespace CaptionSidecar.FakeRealtime;

/// <summary>
/// Fault injection for client robustness tests. Each method acts on every open session, or on one session with the
/// overload taking it, and returns once the frames are on the wire (or the connection is gone).
/// </summary>
public sealed partial class FakeFaults
{
    private readonly FakeRealtimeServer _server;

    internal FakeFaults(FakeRealtimeServer server)
    {
        _server = server;
    }

    /// <summary>Sends a text frame that is not valid JSON; the session continues.</summary>
    public Task SendMalformedJsonAsync() => OnAll(c => c.SendMalformedJsonAsync());

    /// <inheritdoc cref="SendMalformedJsonAsync()"/>
    public Task SendMalformedJsonAsync(FakeSession session) => On(session, c => c.SendMalformedJsonAsync());

    /// <summary>Sends an <c>error</c> event (with <c>error.event_id</c> null); the session continues.</summary>
    public Task SendErrorAsync(string code, string message, string type = "server_error") => OnAll(c => c.SendErrorAsync(code, message, type));

    /// <inheritdoc cref="SendErrorAsync(string, string, string)"/>
    public Task SendErrorAsync(FakeSession session, string code, string message, string type = "server_error") =>
        On(session, c => c.SendErrorAsync(code, message, type));

    /// <summary>Sends a <c>rate_limits.updated</c> event.</summary>
    public Task SendRateLimitsAsync() => OnAll(c => c.SendRateLimitsAsync());

    /// <inheritdoc cref="SendRateLimitsAsync()"/>
    public Task SendRateLimitsAsync(FakeSession session) => On(session, c => c.SendRateLimitsAsync());

    /// <summary>Aborts the TCP connection without a WebSocket close frame.</summary>
    public Task DropConnectionsAsync() => OnAll(c => c.DropAsync());

    /// <inheritdoc cref="DropConnectionsAsync()"/>
    public Task DropConnectionAsync(FakeSession session) => On(session, c => c.DropAsync());

    /// <summary>
    /// Expires the session like the real service: <c>error</c> code <c>session_expired</c> (invalid_request_error,
    /// event_id null, "Your session hit the maximum duration of N minutes."), then a close frame with status 1001.
    /// </summary>
    public Task ExpireSessionsAsync() => OnAll(c => c.ExpireAsync());

    /// <inheritdoc cref="ExpireSessionsAsync()"/>
    public Task ExpireSessionAsync(FakeSession session) => On(session, c => c.ExpireAsync());

    /// <summary>
    /// From now on <paramref name="session"/> commits turns but never sends their transcription (no delta, completed or
    /// failed event), like a service whose transcriber hangs; a withheld turn takes no script line, so the session
    /// that hears it again gets that line. The session otherwise runs normally.
    /// </summary>
    public void WithholdTranscriptions(FakeSession session)
    {
        ArgumentNullException.ThrowIfNull(session);
        _server.ConnectionOf(session)?.WithholdTranscriptions();
    }

    /// <summary>
    /// Stalls every conversation session whose target language (<see cref="FakeSession.TargetLanguage"/>) is
    /// <paramref name="language"/>, now and opened later, until <see cref="ResumeLanguage"/>: the session stops
    /// reading client events, so it commits no turn and answers nothing (a response already streaming still
    /// finishes), and once the socket buffers fill the client's sends block, as with a server that hangs. The
    /// connection stays open. Other languages' sessions are unaffected. Since nothing is read, a close from the
    /// client is seen (and <see cref="FakeSession.IsOpen"/> turns false) only after the language is resumed.
    /// </summary>
    public void StallLanguage(string language)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(language);
        _server.Stalls.Stall(language);
    }

    /// <summary>Ends a <see cref="StallLanguage"/>: the language's sessions read the events waiting for them.</summary>
    public void ResumeLanguage(string language)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(language);
        _server.Stalls.Resume(language);
    }

    private Task OnAll(Func<RealtimeConnection, Task> fault) => Task.WhenAll(_server.OpenConnections().Select(fault));

    private Task On(FakeSession session, Func<RealtimeConnection, Task> fault)
    {
        ArgumentNullException.ThrowIfNull(session);
        return _server.ConnectionOf(session) is { } connection ? fault(connection) : Task.CompletedTask;
    }
}
