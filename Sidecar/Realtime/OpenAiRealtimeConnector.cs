using System.ClientModel;
using System.ClientModel.Primitives;
using System.Net.WebSockets;
using System.Runtime.CompilerServices;
using System.Text.RegularExpressions;
using Microsoft.Extensions.Options;
using OpenAI.Realtime;

namespace CaptionSidecar.Realtime;

/// <summary>
/// Opens sessions with the official <c>OpenAI</c> package's <see cref="RealtimeClient"/>: it builds the URL
/// (<c>wss://…/v1/realtime?intent=transcription</c>, or <c>?model=…</c> for a conversation session), the bearer header and the WebSocket. We send and read the JSON
/// events ourselves so beta event names and malformed messages are handled by our own parser.
/// </summary>
internal sealed partial class OpenAiRealtimeConnector : IRealtimeConnector
{
    private readonly RealtimeOptions _options;
    private readonly RealtimeClient _client;
    private readonly bool _azure;

    public OpenAiRealtimeConnector(IOptions<RealtimeOptions> options)
    {
        _options = options.Value;
        var key = _options.ApiKey ?? throw new InvalidOperationException("Realtime:ApiKey is required for the openai engine.");
        _client = new RealtimeClient(new ApiKeyCredential(key), new RealtimeClientOptions { Endpoint = ApiEndpoint(_options.Endpoint) });
        _azure = _options.Endpoint.Host.EndsWith(".openai.azure.com", StringComparison.OrdinalIgnoreCase)
            || _options.Endpoint.Host.EndsWith(".cognitiveservices.azure.com", StringComparison.OrdinalIgnoreCase);
    }

    /// <summary>The endpoint as the OpenAI client wants it: http(s), since it derives the ws(s) URL itself.</summary>
    internal static Uri ApiEndpoint(Uri endpoint)
    {
        var builder = new UriBuilder(endpoint);
        builder.Scheme = builder.Scheme switch
        {
            "ws" => "http",
            "wss" => "https",
            var s => s,
        };
        if (builder.Uri.IsDefaultPort)
        {
            builder.Port = -1;
        }

        return builder.Uri;
    }

    public async Task<IRealtimeConnection> ConnectAsync(RealtimeSessionKind kind, CancellationToken cancellationToken)
    {
        var sessionOptions = new RealtimeSessionClientOptions();
        if (_azure)
        {
            // Azure OpenAI takes its key in the api-key header (the bearer header carries Entra ID tokens).
            sessionOptions.Headers["api-key"] = _options.ApiKey!;
        }

        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(TimeSpan.FromSeconds(_options.HandshakeTimeoutSeconds));
        try
        {
            var session = kind switch
            {
                RealtimeSessionKind.Transcription => await _client.StartTranscriptionSessionAsync(sessionOptions, timeout.Token),
                RealtimeSessionKind.Translation => await _client.StartConversationSessionAsync(_options.TranslateModel, sessionOptions, timeout.Token),
                _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, "Unknown session kind."),
            };
            return new Connection(session);
        }
        catch (WebSocketException ex) when (HttpStatus(ex) is 401 or 403)
        {
            throw new RealtimeAuthenticationException(
                $"The Realtime endpoint {_options.Endpoint.Host} rejected the API key (HTTP {HttpStatus(ex)}). Check OPENAI_API_KEY " +
                "(or --api-key) and that the key's project may use the Realtime API; the sidecar will not retry with this key.", ex);
        }
        catch (OperationCanceledException ex) when (!cancellationToken.IsCancellationRequested)
        {
            throw new RealtimeConnectException($"No answer from {_options.Endpoint.Host} within {_options.HandshakeTimeoutSeconds} s.", ex);
        }
        catch (Exception ex) when (ex is WebSocketException or HttpRequestException or IOException or System.Net.Sockets.SocketException)
        {
            var status = ex is WebSocketException wse ? HttpStatus(wse) : null;
            throw new RealtimeConnectException(status is { } code ? $"HTTP {code} at the WebSocket upgrade" : ex.Message, ex);
        }
    }

    /// <summary>The HTTP status of a refused upgrade, from the message the runtime gives (it has no property for it).</summary>
    internal static int? HttpStatus(WebSocketException ex) =>
        StatusCodeText().Match(ex.Message) is { Success: true } m ? int.Parse(m.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture) : null;

    [GeneratedRegex(@"status code '(\d{3})'")]
    private static partial Regex StatusCodeText();

    private sealed class Connection(RealtimeSessionClient session) : IRealtimeConnection
    {
        public Task SendAsync(BinaryData message, CancellationToken cancellationToken) =>
            session.SendCommandAsync(message, new RequestOptions { CancellationToken = cancellationToken });

        public async IAsyncEnumerable<BinaryData> ReceiveAsync([EnumeratorCancellation] CancellationToken cancellationToken)
        {
            await foreach (var result in session.ReceiveUpdatesAsync(new RequestOptions { CancellationToken = cancellationToken }))
            {
                yield return result.GetRawResponse().Content;
            }
        }

        public async Task CloseAsync(CancellationToken cancellationToken)
        {
            var socket = session.WebSocket;
            if (socket is { State: WebSocketState.Open or WebSocketState.CloseReceived })
            {
                await socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, "done", cancellationToken);
            }
        }

        public ValueTask DisposeAsync()
        {
            session.Dispose();
            return ValueTask.CompletedTask;
        }
    }
}
