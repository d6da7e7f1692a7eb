using System.Globalization;
using System.Net.Security;
using System.Net.Sockets;
using System.Net.WebSockets;
using System.Security.Cryptography;
using System.Text;

namespace CaptionSidecar.ObsBridge;

/// <summary>
/// Opens a client WebSocket over the client's own <see cref="ObsSocketStream"/>: TCP connect (TCP_NODELAY), TLS for
/// <c>wss://</c>, the RFC 6455 HTTP/1.1 upgrade, then <see cref="WebSocket.CreateFromStream(Stream, WebSocketCreationOptions)"/>
/// (the runtime's framing, masking, ping/pong and close handshake).
/// </summary>
/// <remarks><see cref="ClientWebSocket"/> would do the same but hides its stream, whose reads always complete through
/// the thread pool; owning the stream lets the receive loop read on its own thread.</remarks>
internal static class WebSocketUpgrade
{
    private const string AcceptGuid = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
    private const int MaxResponseHeaderBytes = 16 * 1024;

    /// <summary>Connects and upgrades; the returned stream is the bottom (TCP) stream of the WebSocket.</summary>
    /// <exception cref="WebSocketException">The server did not accept the upgrade (status, headers or subprotocol).</exception>
    public static async Task<(WebSocket Socket, ObsSocketStream Stream)> ConnectAsync(Uri url, string subProtocol,
        TimeSpan keepAliveInterval, CancellationToken cancellationToken)
    {
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        var tcp = new ObsSocketStream(socket);
        Stream stream = tcp;
        var upgraded = false;
        try
        {
            await tcp.ConnectAsync(url.IdnHost, url.Port, cancellationToken).ConfigureAwait(false);
            if (url.Scheme == "wss")
            {
                var tls = new SslStream(tcp, leaveInnerStreamOpen: false);
                stream = tls;
                await tls.AuthenticateAsClientAsync(new SslClientAuthenticationOptions { TargetHost = url.IdnHost }, cancellationToken)
                    .ConfigureAwait(false);
            }

            var key = Convert.ToBase64String(RandomNumberGenerator.GetBytes(16));
            await stream.WriteAsync(Request(url, key, subProtocol), cancellationToken).ConfigureAwait(false);
            var response = await ReadResponseHeadAsync(stream, cancellationToken).ConfigureAwait(false);
            Validate(response, key, subProtocol);
            var webSocket = WebSocket.CreateFromStream(stream, new WebSocketCreationOptions
            {
                IsServer = false,
                SubProtocol = subProtocol,
                KeepAliveInterval = keepAliveInterval,
            });
            upgraded = true;
            return (webSocket, tcp);
        }
        finally
        {
            if (!upgraded)
            {
                await stream.DisposeAsync().ConfigureAwait(false);
            }
        }
    }

    /// <summary>The upgrade request (RFC 6455 section 4.1).</summary>
    internal static byte[] Request(Uri url, string key, string subProtocol) => Encoding.ASCII.GetBytes(string.Create(CultureInfo.InvariantCulture,
        $"GET {url.PathAndQuery} HTTP/1.1\r\nHost: {url.Authority}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
        $"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: {subProtocol}\r\n\r\n"));

    /// <summary>The Sec-WebSocket-Accept value a server must answer <paramref name="key"/> with.</summary>
    internal static string ExpectedAccept(string key) => Convert.ToBase64String(SHA1.HashData(Encoding.ASCII.GetBytes(key + AcceptGuid)));

    /// <summary>Checks a response head (status line and headers, without the blank line).</summary>
    /// <exception cref="WebSocketException">Not a valid 101 answer to this request.</exception>
    internal static void Validate(string responseHead, string key, string subProtocol)
    {
        var lines = responseHead.Split("\r\n");
        var status = lines[0].Split(' ', 3);
        if (status.Length < 2 || !status[0].StartsWith("HTTP/1.", StringComparison.Ordinal) || status[1] != "101")
        {
            throw new WebSocketException(WebSocketError.NotAWebSocket,
                $"The server answered the WebSocket upgrade with '{lines[0]}' instead of 101 Switching Protocols.");
        }

        var headers = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (var line in lines.Skip(1))
        {
            var colon = line.IndexOf(':', StringComparison.Ordinal);
            if (colon > 0)
            {
                headers[line[..colon].Trim()] = line[(colon + 1)..].Trim();
            }
        }

        if (!headers.TryGetValue("Upgrade", out var upgrade) || !upgrade.Equals("websocket", StringComparison.OrdinalIgnoreCase)
            || !headers.TryGetValue("Connection", out var connection)
            || !connection.Split(',').Any(t => t.Trim().Equals("Upgrade", StringComparison.OrdinalIgnoreCase)))
        {
            throw new WebSocketException(WebSocketError.HeaderError, "The server's 101 answer lacks 'Upgrade: websocket' or 'Connection: Upgrade'.");
        }

        if (!headers.TryGetValue("Sec-WebSocket-Accept", out var accept) || accept != ExpectedAccept(key))
        {
            throw new WebSocketException(WebSocketError.HeaderError, "The server's Sec-WebSocket-Accept does not match the request's key.");
        }

        if (!headers.TryGetValue("Sec-WebSocket-Protocol", out var protocol) || protocol != subProtocol)
        {
            throw new WebSocketException(WebSocketError.UnsupportedProtocol,
                $"The server did not accept the WebSocket subprotocol '{subProtocol}' (is this an obs-websocket v5 server?).");
        }
    }

    /// <summary>Reads up to and including the blank line, one byte at a time so nothing after it (the server's first
    /// frame may follow in the same segment) is taken from the WebSocket.</summary>
    private static async Task<string> ReadResponseHeadAsync(Stream stream, CancellationToken cancellationToken)
    {
        var head = new byte[MaxResponseHeaderBytes];
        var length = 0;
        while (length < 4 || !head.AsSpan(length - 4, 4).SequenceEqual("\r\n\r\n"u8))
        {
            if (length == head.Length)
            {
                throw new WebSocketException(WebSocketError.HeaderError, $"The server's upgrade answer is longer than {MaxResponseHeaderBytes} bytes.");
            }

            if (await stream.ReadAsync(head.AsMemory(length, 1), cancellationToken).ConfigureAwait(false) == 0)
            {
                throw new WebSocketException(WebSocketError.ConnectionClosedPrematurely, "The server closed the connection during the WebSocket upgrade.");
            }

            length++;
        }

        return Encoding.ASCII.GetString(head, 0, length - 4);
    }
}
