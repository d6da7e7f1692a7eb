using System.Buffers;
using System.Globalization;
using System.Net.WebSockets;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Connections;

namespace CaptionSidecar.FakeRealtime;

/// <summary>
/// An HTTP error the fake answers WebSocket upgrades with, shaped like the OpenAI API's errors: the status, an
/// optional <c>Retry-After</c> header (whole seconds) and a JSON body <c>{"error":{"message","type","param","code"}}</c>.
/// </summary>
/// <param name="StatusCode">The HTTP status, 400-599.</param>
/// <param name="Type">The body's <c>error.type</c>.</param>
/// <param name="Code">The body's <c>error.code</c> (the service sends null for some errors).</param>
/// <param name="Message">The body's <c>error.message</c>, the sentence a client should show.</param>
/// <param name="RetryAfter">The <c>Retry-After</c> header, rounded up to whole seconds; null sends none.</param>
public sealed record UpgradeRefusal(int StatusCode, string Type, string? Code, string Message, TimeSpan? RetryAfter = null)
{
    /// <summary>HTTP 429 as the service answers a client over its rate limit, with <c>Retry-After</c>.</summary>
    public static UpgradeRefusal TooManyRequests(TimeSpan retryAfter) => new(
        429, "requests", "rate_limit_exceeded",
        $"Rate limit reached for requests. Please try again in {Math.Ceiling(retryAfter.TotalSeconds).ToString(CultureInfo.InvariantCulture)}s.",
        retryAfter);

    /// <summary>HTTP 500 with the service's body for an internal error (its <c>code</c> is null).</summary>
    public static UpgradeRefusal ServerError() => new(
        500, "server_error", null, "The server had an error while processing your request. Sorry about that!");

    /// <summary>
    /// Parses the command-line form: <c>429</c> or <c>429:SECONDS</c> (Retry-After, default 1), <c>500</c>, or any other
    /// status 400-599 (a generic body).
    /// </summary>
    /// <exception cref="ArgumentException">Not one of those forms.</exception>
    public static UpgradeRefusal Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var parts = text.Split(':', 2);
        if (!int.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out var status) || status is < 400 or > 599)
        {
            throw new ArgumentException($"'{text}' is not an HTTP error status: give 429, 429:SECONDS (Retry-After), 500 or another status 400-599.");
        }

        TimeSpan? retryAfter = null;
        if (parts.Length == 2)
        {
            retryAfter = double.TryParse(parts[1], NumberStyles.Float, CultureInfo.InvariantCulture, out var seconds) && seconds >= 0
                ? TimeSpan.FromSeconds(seconds)
                : throw new ArgumentException($"'{parts[1]}' in '{text}' is not a number of seconds for Retry-After.");
        }

        return status switch
        {
            429 => TooManyRequests(retryAfter ?? TimeSpan.FromSeconds(1)),
            500 when retryAfter is null => ServerError(),
            _ => new UpgradeRefusal(status, status >= 500 ? "server_error" : "invalid_request_error", null, $"The fake server refuses upgrades with HTTP {status}.", retryAfter),
        };
    }

    /// <summary>The JSON body the service sends with such a status.</summary>
    public JsonObject Body() => new()
    {
        ["error"] = new JsonObject { ["message"] = Message, ["type"] = Type, ["param"] = null, ["code"] = Code },
    };

    internal async Task WriteAsync(HttpContext context)
    {
        context.Response.StatusCode = StatusCode;
        if (RetryAfter is { } wait)
        {
            context.Response.Headers.RetryAfter = Math.Ceiling(wait.TotalSeconds).ToString(CultureInfo.InvariantCulture);
        }

        context.Response.ContentType = "application/json";
        await context.Response.WriteAsync(Body().ToJsonString(), context.RequestAborted);
    }
}

/// <summary>The hostile modes at the upgrade and right after it (see <see cref="FakeRealtimeServer.RefuseUpgrades"/>).</summary>
public sealed partial class FakeRealtimeServer
{
    private int _upgradeRequests;
    private volatile UpgradeRefusal? _refuseUpgrades;
    private volatile bool _closeAfterSessionCreated;
    private volatile bool _hangUpUpgrades;

    /// <summary>
    /// Requests that reached the Realtime path so far, refused or accepted: a client that makes one upgrade attempt
    /// per connect makes exactly one each.
    /// </summary>
    public int UpgradeRequests => Volatile.Read(ref _upgradeRequests);

    /// <summary>While set, every upgrade is answered with this HTTP error instead; starts as <see cref="FakeRealtimeOptions.RefuseUpgrades"/>.</summary>
    public UpgradeRefusal? RefuseUpgrades
    {
        get => _refuseUpgrades;
        set => _refuseUpgrades = value;
    }

    /// <summary>
    /// While true, every request is answered with nothing: the connection is closed (gracefully) before any response,
    /// as by an overloaded proxy; starts as <see cref="FakeRealtimeOptions.HangUpUpgrades"/>.
    /// </summary>
    public bool HangUpUpgrades
    {
        get => _hangUpUpgrades;
        set => _hangUpUpgrades = value;
    }

    /// <summary>
    /// While true, every accepted session sends <c>session.created</c> and then closes the WebSocket at once (close
    /// 1011), as a failing server that accepts and drops; starts as <see cref="FakeRealtimeOptions.CloseAfterSessionCreated"/>.
    /// </summary>
    public bool CloseAfterSessionCreated
    {
        get => _closeAfterSessionCreated;
        set => _closeAfterSessionCreated = value;
    }

    /// <summary>Counts the request and answers it with <see cref="RefuseUpgrades"/> if set; true when it was refused.</summary>
    private async Task<bool> RefusedAsync(HttpContext context)
    {
        Interlocked.Increment(ref _upgradeRequests);
        if (_refuseUpgrades is not { } refusal)
        {
            return false;
        }

        Log.Rejected(_logger, "refusing upgrades", refusal.StatusCode);
        await refusal.WriteAsync(context);
        return true;
    }

    /// <summary>
    /// Connection middleware for <see cref="HangUpUpgrades"/>: reads the request head, counts it, and closes the
    /// connection gracefully without a byte of answer, so the client reads the end of the stream (not a reset).
    /// </summary>
    private async Task AcceptConnectionAsync(ConnectionContext connection, ConnectionDelegate next)
    {
        if (!_hangUpUpgrades)
        {
            await next(connection);
            return;
        }

        var input = connection.Transport.Input;
        while (true)
        {
            var read = await input.ReadAsync(connection.ConnectionClosed);
            var head = new SequenceReader<byte>(read.Buffer);
            if (head.TryReadTo(out ReadOnlySequence<byte> _, "\r\n\r\n"u8) || read.IsCompleted)
            {
                input.AdvanceTo(read.Buffer.End);
                break;
            }

            input.AdvanceTo(read.Buffer.Start, read.Buffer.End);
        }

        Interlocked.Increment(ref _upgradeRequests);
        Log.HungUp(_logger);
        await input.CompleteAsync();
        await connection.Transport.Output.CompleteAsync();
    }

    /// <summary>Applies the hostile modes that act on a session just accepted (before its run starts).</summary>
    private void OnAccepted(RealtimeConnection connection)
    {
        if (_closeAfterSessionCreated)
        {
            _ = connection.CloseAfterSessionCreatedAsync();
        }
    }
}

/// <summary>Hostile modes of one session.</summary>
internal sealed partial class RealtimeConnection
{
    /// <summary>Queues a close (1011) right behind <c>session.created</c>, which the constructor queued first.</summary>
    public Task CloseAfterSessionCreatedAsync()
    {
        Log.Fault(_logger, Session.Id, "close after session.created");
        return Enqueue(OutboundFrame.OfClose(WebSocketCloseStatus.InternalServerError, "hostile: closed after session.created"));
    }

    /// <summary>
    /// Queues one transcription delta for <paramref name="itemId"/> whose JSON message is about
    /// <paramref name="bytes"/> bytes long (a client bounding one message must skip it and carry on).
    /// </summary>
    public Task SendOversizedDeltaAsync(string itemId, int bytes)
    {
        Log.Fault(_logger, Session.Id, $"oversized message ({bytes} bytes)");
        var evt = ServerEvents.TranscriptionDelta(itemId, string.Empty);
        var padding = Math.Max(0, bytes - evt.ToJsonString().Length);
        evt["delta"] = string.Create(padding, 0, static (span, _) =>
        {
            for (var i = 0; i < span.Length; i++)
            {
                span[i] = i % 6 == 5 ? ' ' : 'x';
            }
        });
        return Send(evt);
    }

    /// <summary>The oversized delta of <see cref="FakeRealtimeOptions.OversizedMessageBytes"/> before a turn's real deltas, if set.</summary>
    private Task BeforeTranscriptionAsync(string itemId) =>
        _options.OversizedMessageBytes is { } bytes ? SendOversizedDeltaAsync(itemId, bytes) : Task.CompletedTask;
}

/// <summary>Fault injection for the sidecar's bound on one server message.</summary>
public sealed partial class FakeFaults
{
    /// <summary>
    /// Sends one <c>conversation.item.input_audio_transcription.delta</c> of about <paramref name="bytes"/> bytes (for
    /// item <paramref name="itemId"/>) on every open session; the session continues.
    /// </summary>
    public Task SendOversizedMessageAsync(int bytes, string itemId = "item_oversized")
    {
        ArgumentOutOfRangeException.ThrowIfNegative(bytes);
        return OnAll(c => c.SendOversizedDeltaAsync(itemId, bytes));
    }
}

/// <summary>The hostile modes' settings.</summary>
public sealed partial class FakeRealtimeOptions
{
    /// <summary>When set, every upgrade is answered with this HTTP error (see <see cref="FakeRealtimeServer.RefuseUpgrades"/>).</summary>
    public UpgradeRefusal? RefuseUpgrades { get; init; }

    /// <summary>When true, every upgrade request's connection is closed without an answer (see <see cref="FakeRealtimeServer.HangUpUpgrades"/>).</summary>
    public bool HangUpUpgrades { get; init; }

    /// <summary>When true, every session closes (1011) right after <c>session.created</c> (see <see cref="FakeRealtimeServer.CloseAfterSessionCreated"/>).</summary>
    public bool CloseAfterSessionCreated { get; init; }

    /// <summary>
    /// When set, each turn's transcription starts with one delta message of about this many bytes, before its real
    /// deltas and <c>completed</c> (a client that bounds one message skips it and still captions the turn).
    /// </summary>
    public int? OversizedMessageBytes { get; init; }

    private void ValidateHostile()
    {
        if (RefuseUpgrades is { StatusCode: < 400 or > 599 } refusal)
        {
            throw new ArgumentOutOfRangeException(nameof(RefuseUpgrades), refusal.StatusCode, "RefuseUpgrades must be an HTTP error status (400-599).");
        }

        if (OversizedMessageBytes is < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(OversizedMessageBytes), OversizedMessageBytes, "OversizedMessageBytes must be at least 1 (or null).");
        }
    }
}

/// <summary>Log messages of the hostile modes.</summary>
internal static partial class Log
{
    [LoggerMessage(LogLevel.Warning, "Hung up on a request without answering it (hostile mode)")]
    public static partial void HungUp(ILogger logger);
}
