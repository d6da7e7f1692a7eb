using System.Net;
using System.Net.WebSockets;
using System.Text.Json;
using System.Threading.Channels;
using CaptionSidecar.Overlay;
using CaptionSidecar.Relay;
using NATS.Client.Core;

namespace CaptionSidecar.Tests.Support;

/// <summary>Publishes caption updates as the sidecar does: a core publish to the subject, with the kind header.</summary>
internal sealed class CaptionPublisher(string natsUrl, string stream) : IAsyncDisposable
{
    private readonly NatsConnection _connection = new(NatsOpts.Default with
    {
        Url = natsUrl,
        MaxReconnectRetry = -1,
        ReconnectWaitMin = TimeSpan.FromMilliseconds(50),
        ReconnectWaitMax = TimeSpan.FromMilliseconds(200),
    });

    private long _sequence = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() * 1000;

    /// <summary>The sequence the next update gets.</summary>
    public long NextSequence => _sequence + 1;

    /// <summary>Publishes one update and returns it.</summary>
    public async Task<OverlayCaption> PublishAsync(string language, string kind, string final, string tentative = "", CancellationToken cancellationToken = default)
    {
        var caption = kind is CaptionUpdateKinds.Cleared or CaptionUpdateKinds.Closed
            ? new OverlayCaption(language, ++_sequence, [], true, DateTimeOffset.UtcNow)
            : new OverlayCaption(language, ++_sequence, [new OverlayCaptionLine(final, tentative)], false, DateTimeOffset.UtcNow);
        await PublishRawAsync(CaptionSubjects.Subject(stream, language), JsonSerializer.SerializeToUtf8Bytes(caption, OverlayJsonContext.Default.OverlayCaption), kind, cancellationToken);
        return caption;
    }

    /// <summary>Publishes any bytes to any subject (for malformed updates).</summary>
    public async Task PublishRawAsync(string subject, byte[] payload, string kind, CancellationToken cancellationToken)
    {
        await _connection.PublishAsync(subject, payload, new NatsHeaders { [CaptionSubjects.KindHeader] = kind }, cancellationToken: cancellationToken);
        // The server has the publish once it answered a ping sent after it.
        await _connection.PingAsync(cancellationToken);
    }

    public ValueTask DisposeAsync() => _connection.DisposeAsync();
}

/// <summary>A viewer on a relay's <c>/ws/watch</c>: every message it receives, in order.</summary>
internal sealed class RelayViewer : IAsyncDisposable
{
    private readonly ClientWebSocket _socket;
    private readonly Channel<OverlayCaption> _received = Channel.CreateUnbounded<OverlayCaption>();
    private readonly List<OverlayCaption> _all = [];
    private readonly Task _reading;

    private RelayViewer(ClientWebSocket socket)
    {
        _socket = socket;
        _reading = ReadAsync();
    }

    /// <summary>Everything received so far.</summary>
    public IReadOnlyList<OverlayCaption> All
    {
        get
        {
            lock (_all)
            {
                return [.. _all];
            }
        }
    }

    /// <summary>Connects; throws <see cref="RelayRefusedException"/> with the status when the relay refuses.</summary>
    public static async Task<RelayViewer> ConnectAsync(Uri relay, string stream, string languages, CancellationToken cancellationToken, string? origin = null, string? forwardedFor = null)
    {
        var socket = new ClientWebSocket();
        socket.Options.CollectHttpResponseDetails = true;
        if (origin is not null)
        {
            socket.Options.SetRequestHeader("Origin", origin);
        }

        if (forwardedFor is not null)
        {
            socket.Options.SetRequestHeader("X-Forwarded-For", forwardedFor);
        }

        var scheme = relay.Scheme == "https" ? "wss" : "ws";
        var uri = new Uri($"{scheme}://{relay.Authority}{relay.AbsolutePath.TrimEnd('/')}/ws/watch?stream={stream}&lang={languages}");
        try
        {
            await socket.ConnectAsync(uri, cancellationToken);
        }
        catch (WebSocketException) when (socket.HttpStatusCode != 0 && socket.HttpStatusCode != HttpStatusCode.SwitchingProtocols)
        {
            var status = socket.HttpStatusCode;
            var retryAfter = socket.HttpResponseHeaders?.TryGetValue("Retry-After", out var values) == true ? values.FirstOrDefault() : null;
            socket.Dispose();
            throw new RelayRefusedException(status, retryAfter);
        }

        return new RelayViewer(socket);
    }

    /// <summary>The next message, waiting for it.</summary>
    public async Task<OverlayCaption> NextAsync(CancellationToken cancellationToken) => await _received.Reader.ReadAsync(cancellationToken);

    /// <summary>Waits until a message with <paramref name="sequence"/> (or later) of <paramref name="language"/> arrived.</summary>
    public Task WaitForAsync(string language, long sequence, CancellationToken cancellationToken) =>
        Poll.UntilAsync(() => All.Any(c => c.Language == language && c.Sequence >= sequence), $"the viewer got {language} #{sequence}", cancellationToken,
            details: () => string.Join(", ", All.Select(c => $"{c.Language}#{c.Sequence}")));

    private async Task ReadAsync()
    {
        var buffer = new byte[70_000];
        try
        {
            while (true)
            {
                var count = 0;
                ValueWebSocketReceiveResult result;
                do
                {
                    result = await _socket.ReceiveAsync(buffer.AsMemory(count), CancellationToken.None);
                    count += result.Count;
                }
                while (!result.EndOfMessage && result.MessageType != WebSocketMessageType.Close);

                if (result.MessageType == WebSocketMessageType.Close)
                {
                    break;
                }

                var caption = JsonSerializer.Deserialize(buffer.AsSpan(0, count), OverlayJsonContext.Default.OverlayCaption)!;
                lock (_all)
                {
                    _all.Add(caption);
                }

                _received.Writer.TryWrite(caption);
            }
        }
        catch (Exception ex) when (ex is WebSocketException or ObjectDisposedException or OperationCanceledException or IOException)
        {
            // Aborted by DisposeAsync, or the relay went away.
        }

        _received.Writer.TryComplete();
    }

    public async ValueTask DisposeAsync()
    {
        _socket.Abort();
        await _reading;
        _socket.Dispose();
    }
}

/// <summary>The relay answered the upgrade with a refusal.</summary>
internal sealed class RelayRefusedException(HttpStatusCode status, string? retryAfter)
    : Exception($"The relay refused the viewer with {(int)status}.")
{
    public HttpStatusCode Status { get; } = status;

    public string? RetryAfter { get; } = retryAfter;
}
