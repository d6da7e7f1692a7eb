using System.Buffers;
using System.Net;
using System.Net.Sockets;
using System.Net.WebSockets;
using System.Runtime.CompilerServices;
using System.Text.Json;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace CaptionSidecar.Realtime;

/// <summary>
/// Opens Realtime sessions on the runtime's <see cref="ClientWebSocket"/>: <c>wss://…/realtime?intent=transcription</c>,
/// or <c>?model=…</c> for a conversation session, with the bearer header (Azure: <c>api-key</c>) and the
/// <c>realtime</c> subprotocol, as the official OpenAI package does. It opens the socket itself rather than through
/// that package's client because a refused upgrade must keep what the service said (status, <c>Retry-After</c>, the
/// JSON error body), each connect must be exactly one upgrade request, and one server message must be bounded
/// (<see cref="RealtimeOptions.MaxServerMessageBytes"/>): the package's client gives none of these.
/// </summary>
internal sealed partial class OpenAiRealtimeConnector : IRealtimeConnector
{
    private readonly RealtimeOptions _options;
    private readonly ILogger _logger;
    private readonly TimeProvider _time;
    private readonly bool _azure;

    /// <summary>A connector without logging, on the system clock (tests, tools).</summary>
    public OpenAiRealtimeConnector(IOptions<RealtimeOptions> options)
        : this(options, NullLogger<OpenAiRealtimeConnector>.Instance, TimeProvider.System)
    {
    }

    /// <summary>The connector the host uses: it warns about oversized server messages and times the handshake on <paramref name="time"/>.</summary>
    public OpenAiRealtimeConnector(IOptions<RealtimeOptions> options, ILogger<OpenAiRealtimeConnector> logger, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(options);
        _options = options.Value;
        _logger = logger;
        _time = time;
        _ = _options.ApiKey ?? throw new InvalidOperationException("Realtime:ApiKey is required for the openai engine.");
        _azure = _options.Endpoint.Host.EndsWith(".openai.azure.com", StringComparison.OrdinalIgnoreCase)
            || _options.Endpoint.Host.EndsWith(".cognitiveservices.azure.com", StringComparison.OrdinalIgnoreCase);
    }

    /// <summary>
    /// The WebSocket URL of a session: the endpoint with a ws(s) scheme and <c>/realtime</c> appended to its path, and
    /// <c>?intent=transcription</c> or <c>?model=MODEL</c> as its query (<paramref name="model"/>: the conversation model of that kind).
    /// </summary>
    internal static Uri SessionUri(Uri endpoint, RealtimeSessionKind kind, string model)
    {
        var builder = new UriBuilder(endpoint)
        {
            Scheme = endpoint.Scheme.ToLowerInvariant() switch
            {
                "http" or "ws" => "ws",
                _ => "wss",
            },
        };
        if (endpoint.IsDefaultPort)
        {
            builder.Port = -1;
        }

        var path = builder.Path.TrimEnd('/');
        builder.Path = path.EndsWith("/realtime", StringComparison.Ordinal) ? path : path + "/realtime";
        builder.Query = kind switch
        {
            RealtimeSessionKind.Transcription => "intent=transcription",
            RealtimeSessionKind.Translation or RealtimeSessionKind.TextTranslation => "model=" + Uri.EscapeDataString(model),
            _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, "Unknown session kind."),
        };
        return builder.Uri;
    }

    public async Task<IRealtimeConnection> ConnectAsync(RealtimeSessionKind kind, CancellationToken cancellationToken)
    {
        var uri = SessionUri(_options.Endpoint, kind, kind == RealtimeSessionKind.TextTranslation ? _options.TextTranslateModel : _options.TranslateModel);
        var upgrade = new UpgradeAttempt(_time, _options.ApiKey!);
        using var invoker = new HttpMessageInvoker(upgrade.CreateHandler(), disposeHandler: true);
        var socket = new ClientWebSocket();
        socket.Options.AddSubProtocol("realtime");

        // Azure OpenAI takes its key in the api-key header (the bearer header carries Entra ID tokens there).
        socket.Options.SetRequestHeader(_azure ? "api-key" : "Authorization", _azure ? _options.ApiKey : "Bearer " + _options.ApiKey);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(_options.HandshakeTimeoutSeconds), _time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timeout.Token);
        try
        {
            // Disposing the invoker after the upgrade leaves the WebSocket's stream open (the runtime does the same).
            await socket.ConnectAsync(uri, invoker, linked.Token);
            return new Connection(socket, _options.MaxServerMessageBytes, _logger);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            socket.Dispose();
            throw;
        }
        catch (Exception ex) when (ex is WebSocketException or HttpRequestException or IOException or SocketException or OperationCanceledException)
        {
            socket.Dispose();
            throw Failure(ex, upgrade, timedOut: timeout.IsCancellationRequested);
        }
    }

    /// <summary>What a failed connect means: a key the service refuses (no retry), or a failure worth retrying, said plainly.</summary>
    private Exception Failure(Exception ex, UpgradeAttempt upgrade, bool timedOut)
    {
        var host = _options.Endpoint.Host;
        if (upgrade.Refusal is { } refusal)
        {
            var said = refusal.ServiceMessage is { } message ? $": {message}" : string.Empty;
            if (refusal.StatusCode is 401 or 403)
            {
                return new RealtimeAuthenticationException(
                    $"The Realtime endpoint {host} rejected the API key (HTTP {refusal.StatusText}{said}). Check OPENAI_API_KEY " +
                    "(or --api-key) and that the key's project may use the Realtime API; the sidecar will not retry with this key.", ex);
            }

            return new RealtimeConnectException($"HTTP {refusal.StatusText} at the WebSocket upgrade{said}", ex)
            {
                StatusCode = refusal.StatusCode,
                RetryAfter = refusal.RetryAfter,
            };
        }

        if (timedOut)
        {
            return new RealtimeConnectException($"No answer from {host} within {_options.HandshakeTimeoutSeconds} s.", ex);
        }

        if (upgrade.ClosedUnanswered)
        {
            return new RealtimeConnectException($"{host} closed the connection without answering the WebSocket upgrade", ex);
        }

        // The runtime wraps the cause ("Connection refused", "Name or service not known") in "Unable to connect to the remote server".
        var cause = ex;
        while (cause.InnerException is { } inner)
        {
            cause = inner;
        }

        return new RealtimeConnectException(cause.Message, ex);
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "The Realtime server sent a '{EventType}' message of {Bytes} bytes, more than Realtime:MaxServerMessageBytes ({Limit}); it was skipped and the session carries on ({Count} skipped so far)")]
    private static partial void LogMessageSkipped(ILogger logger, string eventType, long bytes, int limit, int count);

    /// <summary>One upgrade request: its single TCP connection, and the HTTP error it was answered with, if any.</summary>
    private sealed class UpgradeAttempt(TimeProvider time, string apiKey)
    {
        private int _connects;

        /// <summary>The non-101 answer to the upgrade, read before the WebSocket client discards it.</summary>
        public RefusedUpgrade? Refusal { get; private set; }

        /// <summary>True when the server closed the connection before any answer (and a second connection was refused).</summary>
        public bool ClosedUnanswered => Volatile.Read(ref _connects) > 1;

        public HttpMessageHandler CreateHandler() => new RefusalReader(this, new SocketsHttpHandler
        {
            PooledConnectionLifetime = TimeSpan.Zero,
            UseCookies = false,
            ConnectCallback = ConnectOnceAsync,
        });

        /// <summary>
        /// Opens the attempt's one TCP connection. SocketsHttpHandler sends a request without a body again, up to three
        /// more times back to back, when the server closes the connection before answering; for an upgrade that made
        /// four requests per connect. The track's backoff decides when to try again, so a second connection is refused.
        /// </summary>
        private async ValueTask<Stream> ConnectOnceAsync(SocketsHttpConnectionContext context, CancellationToken cancellationToken)
        {
            if (Interlocked.Increment(ref _connects) > 1)
            {
                throw new IOException("The server closed the connection without answering the WebSocket upgrade.");
            }

            var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
            try
            {
                await socket.ConnectAsync(context.DnsEndPoint, cancellationToken);
                return new NetworkStream(socket, ownsSocket: true);
            }
            catch
            {
                socket.Dispose();
                throw;
            }
        }

        private sealed class RefusalReader(UpgradeAttempt attempt, HttpMessageHandler inner) : DelegatingHandler(inner)
        {
            /// <summary>Most bytes of an error body read: the service's JSON error is a few hundred.</summary>
            private const int MaxErrorBodyBytes = 16 * 1024;

            protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
            {
                var response = await base.SendAsync(request, cancellationToken);
                if (response.StatusCode != HttpStatusCode.SwitchingProtocols)
                {
                    attempt.Refused(response, await ReadBoundedAsync(response.Content, cancellationToken));
                }

                return response;
            }

            private static async Task<byte[]> ReadBoundedAsync(HttpContent content, CancellationToken cancellationToken)
            {
                try
                {
                    await using var stream = await content.ReadAsStreamAsync(cancellationToken);
                    var buffer = new byte[MaxErrorBodyBytes];
                    var read = 0;
                    while (read < buffer.Length && await stream.ReadAsync(buffer.AsMemory(read), cancellationToken) is var n and > 0)
                    {
                        read += n;
                    }

                    return buffer[..read];
                }
                catch (Exception ex) when (ex is IOException or HttpRequestException)
                {
                    // The status and headers still say what happened; the body is a courtesy.
                    return [];
                }
            }
        }

        private void Refused(HttpResponseMessage response, byte[] body) => Refusal = RefusedUpgrade.From(response, body, time.GetUtcNow(), apiKey);
    }

    /// <summary>One open Realtime WebSocket; a server message larger than the limit is skipped, never buffered whole.</summary>
    private sealed class Connection(ClientWebSocket socket, int maxMessageBytes, ILogger logger) : IRealtimeConnection
    {
        private const int ChunkBytes = 16 * 1024;
        private int _skipped;

        public Task SendAsync(BinaryData message, CancellationToken cancellationToken) =>
            socket.SendAsync(message.ToMemory(), WebSocketMessageType.Text, endOfMessage: true, cancellationToken).AsTask();

        public async IAsyncEnumerable<BinaryData> ReceiveAsync([EnumeratorCancellation] CancellationToken cancellationToken)
        {
            var chunk = ArrayPool<byte>.Shared.Rent(ChunkBytes);
            try
            {
                var message = new ArrayBufferWriter<byte>(ChunkBytes);
                long skipping = -1;
                var skippedType = string.Empty;
                while (true)
                {
                    var result = await socket.ReceiveAsync(chunk.AsMemory(), cancellationToken);
                    if (result.MessageType == WebSocketMessageType.Close)
                    {
                        yield break;
                    }

                    var received = chunk.AsSpan(0, result.Count);
                    if (skipping >= 0)
                    {
                        skipping += received.Length;
                    }
                    else if (message.WrittenCount + received.Length > maxMessageBytes)
                    {
                        // Only the start is kept long enough to name the event; the rest is read and dropped as it comes.
                        skippedType = EventType(message.WrittenCount > 0 ? message.WrittenSpan : received);
                        skipping = message.WrittenCount + received.Length;
                        message = new ArrayBufferWriter<byte>(ChunkBytes);
                    }
                    else
                    {
                        message.Write(received);
                    }

                    if (!result.EndOfMessage)
                    {
                        continue;
                    }

                    if (skipping >= 0)
                    {
                        var count = Interlocked.Increment(ref _skipped);
                        if (count <= 5 || count % 100 == 0)
                        {
                            LogMessageSkipped(logger, skippedType, skipping, maxMessageBytes, count);
                        }

                        skipping = -1;
                        continue;
                    }

                    yield return new BinaryData(message.WrittenSpan.ToArray());
                    message.ResetWrittenCount();
                }
            }
            finally
            {
                ArrayPool<byte>.Shared.Return(chunk);
            }
        }

        public async Task CloseAsync(CancellationToken cancellationToken)
        {
            if (socket.State is WebSocketState.Open or WebSocketState.CloseReceived)
            {
                await socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, "done", cancellationToken);
            }
        }

        public ValueTask DisposeAsync()
        {
            socket.Dispose();
            return ValueTask.CompletedTask;
        }
    }

    /// <summary>The <c>type</c> of a server event from the start of its JSON (for the log line of a skipped message).</summary>
    internal static string EventType(ReadOnlySpan<byte> start)
    {
        var reader = new Utf8JsonReader(start, isFinalBlock: false, state: default);
        try
        {
            while (reader.Read())
            {
                if (reader.TokenType == JsonTokenType.PropertyName && reader.CurrentDepth == 1 && reader.ValueTextEquals("type"u8))
                {
                    return reader.Read() && reader.TokenType == JsonTokenType.String && reader.GetString() is { Length: > 0 and <= 80 } type
                        ? type
                        : "unknown";
                }

                if (reader.TokenType is JsonTokenType.StartObject or JsonTokenType.StartArray && reader.CurrentDepth >= 1 && !reader.TrySkip())
                {
                    break;
                }
            }
        }
        catch (JsonException)
        {
            // Not JSON: named "unknown" below.
        }

        return "unknown";
    }
}
