using CaptionSidecar.Retries;

namespace CaptionSidecar.Realtime;

/// <summary>The kinds of Realtime session the sidecar opens.</summary>
public enum RealtimeSessionKind
{
    /// <summary><c>?intent=transcription</c>: speech to text in the spoken language.</summary>
    Transcription,

    /// <summary><c>?model=&lt;TranslateModel&gt;</c>: a conversation session whose answers are translations.</summary>
    Translation,

    /// <summary><c>?model=&lt;TextTranslateModel&gt;</c>: a text-only conversation session that translates source lines (no audio).</summary>
    TextTranslation,
}

/// <summary>
/// Opens WebSocket sessions to a Realtime endpoint. The seam between a track (which decides when to open, replace
/// or close a session) and the wire (the OpenAI package's client).
/// </summary>
internal interface IRealtimeConnector
{
    /// <summary>
    /// Opens a new session. Throws <see cref="RealtimeAuthenticationException"/> when the key is rejected (no retry
    /// can help) and <see cref="RealtimeConnectException"/> for failures worth retrying.
    /// </summary>
    Task<IRealtimeConnection> ConnectAsync(RealtimeSessionKind kind, CancellationToken cancellationToken);
}

/// <summary>One open Realtime WebSocket: JSON text messages in both directions.</summary>
internal interface IRealtimeConnection : IAsyncDisposable
{
    /// <summary>Sends one client event (a whole JSON message). Only one caller may send at a time.</summary>
    Task SendAsync(BinaryData message, CancellationToken cancellationToken);

    /// <summary>The server's messages in order until the connection closes (then the sequence ends).</summary>
    IAsyncEnumerable<BinaryData> ReceiveAsync(CancellationToken cancellationToken);

    /// <summary>Closes the connection normally (close code 1000) if it is still open.</summary>
    Task CloseAsync(CancellationToken cancellationToken);
}

/// <summary>
/// A connection attempt failed in a way a later attempt may not (refused, reset, timed out, HTTP 429 or 5xx). When the
/// service answered the upgrade with an HTTP error, <see cref="StatusCode"/> says which, and a <c>Retry-After</c> it
/// sent is honoured by the track's backoff (<see cref="IRetryAfter"/>).
/// </summary>
public sealed class RealtimeConnectException : Exception, IRetryAfter
{
    public RealtimeConnectException()
    {
    }

    public RealtimeConnectException(string message)
        : base(message)
    {
    }

    public RealtimeConnectException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    /// <summary>The HTTP status the upgrade was answered with, if the service answered.</summary>
    public int? StatusCode { get; init; }

    /// <summary>The wait the service asked for (<c>Retry-After</c>), if it asked.</summary>
    public TimeSpan? RetryAfter { get; init; }
}
