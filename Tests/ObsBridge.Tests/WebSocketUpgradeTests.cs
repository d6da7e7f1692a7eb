using System.Net;
using System.Net.Sockets;
using System.Net.WebSockets;
using System.Text;

namespace CaptionSidecar.ObsBridge.Tests;

/// <summary>The client's own RFC 6455 upgrade, against hand-written server answers and a raw TCP server.</summary>
public sealed class WebSocketUpgradeTests
{
    private const string Key = "dGhlIHNhbXBsZSBub25jZQ==";

    private static string ValidHead(string? protocol = "obswebsocket.json", string accept = "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=") =>
        "HTTP/1.1 101 Switching Protocols\r\nupgrade: WebSocket\r\nConnection: keep-alive, Upgrade\r\n" +
        $"Sec-WebSocket-Accept: {accept}" + (protocol is null ? string.Empty : $"\r\nSec-WebSocket-Protocol: {protocol}");

    [Fact]
    public void ExpectedAccept_Rfc6455Example_MatchesTheRfc()
    {
        Assert.Equal("s3pPLMBiTxaQ9kYGzzhZRbK+xOo=", WebSocketUpgrade.ExpectedAccept(Key));
    }

    [Fact]
    public void Request_PathHostAndProtocol_HasEveryUpgradeHeader()
    {
        var text = Encoding.ASCII.GetString(WebSocketUpgrade.Request(new Uri("ws://obs.local:4455/ws?x=1"), Key, "obswebsocket.json"));

        Assert.StartsWith("GET /ws?x=1 HTTP/1.1\r\nHost: obs.local:4455\r\n", text, StringComparison.Ordinal);
        Assert.Contains("\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n", text, StringComparison.Ordinal);
        Assert.Contains($"\r\nSec-WebSocket-Key: {Key}\r\nSec-WebSocket-Version: 13\r\n", text, StringComparison.Ordinal);
        Assert.EndsWith("\r\nSec-WebSocket-Protocol: obswebsocket.json\r\n\r\n", text, StringComparison.Ordinal);
    }

    [Fact]
    public void Validate_Valid101CaseInsensitiveHeaders_Accepts()
    {
        WebSocketUpgrade.Validate(ValidHead(), Key, "obswebsocket.json");
    }

    [Fact]
    public void Validate_ServiceUnavailable_ThrowsNamingTheStatusLine()
    {
        var ex = Assert.Throws<WebSocketException>(() =>
            WebSocketUpgrade.Validate("HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0", Key, "obswebsocket.json"));

        Assert.Contains("503 Service Unavailable", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Validate_WrongAccept_Throws()
    {
        var ex = Assert.Throws<WebSocketException>(() =>
            WebSocketUpgrade.Validate(ValidHead(accept: "AAAAAAAAAAAAAAAAAAAAAAAAAAA="), Key, "obswebsocket.json"));

        Assert.Contains("Sec-WebSocket-Accept", ex.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("obswebsocket.msgpack")]
    public void Validate_SubprotocolNotAccepted_ThrowsNamingIt(string? answered)
    {
        var ex = Assert.Throws<WebSocketException>(() => WebSocketUpgrade.Validate(ValidHead(answered), Key, "obswebsocket.json"));

        Assert.Contains("obswebsocket.json", ex.Message, StringComparison.Ordinal);
    }

    [Fact(Timeout = 30000)]
    public async Task ConnectAsync_FrameInSameSegmentAs101_FrameIsNotLostAndClientFramesAreMasked()
    {
        var ct = TestContext.Current.CancellationToken;
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        var server = RunRawServerAsync(listener, ct);

        var (socket, stream) = await WebSocketUpgrade.ConnectAsync(new Uri($"ws://127.0.0.1:{port}/"), "obswebsocket.json",
            TimeSpan.Zero, ct);
        using (socket)
        {
            Assert.True(stream.Socket.NoDelay);
            Assert.Equal("obswebsocket.json", socket.SubProtocol);
            var buffer = new byte[64];
            var first = await socket.ReceiveAsync(buffer.AsMemory(), ct);
            Assert.Equal("hello", Encoding.UTF8.GetString(buffer, 0, first.Count));
            Assert.True(first.EndOfMessage);

            await socket.SendAsync("ping-me"u8.ToArray(), WebSocketMessageType.Text, true, ct);
            var echo = socket.ReceiveAsync(buffer.AsMemory(), ct);
            Assert.True(echo.IsCompleted); // a blocking read completes synchronously
            var result = await echo;
            Assert.Equal("echo ping-me (masked)", Encoding.UTF8.GetString(buffer, 0, result.Count));
        }

        await server;
    }

    /// <summary>Answers the upgrade and sends a text frame in the same write, then echoes one client frame, telling
    /// whether it was masked (a client must mask, RFC 6455 section 5.3).</summary>
    private static async Task RunRawServerAsync(TcpListener listener, CancellationToken ct)
    {
        using var client = await listener.AcceptTcpClientAsync(ct);
        var net = client.GetStream();
        var head = new StringBuilder();
        var one = new byte[1];
        while (!head.ToString().EndsWith("\r\n\r\n", StringComparison.Ordinal))
        {
            Assert.Equal(1, await net.ReadAsync(one, ct));
            head.Append((char)one[0]);
        }

        var key = head.ToString().Split("\r\n").Single(l => l.StartsWith("Sec-WebSocket-Key: ", StringComparison.Ordinal))[19..];
        var answer = Encoding.ASCII.GetBytes("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
            $"Sec-WebSocket-Accept: {WebSocketUpgrade.ExpectedAccept(key)}\r\nSec-WebSocket-Protocol: obswebsocket.json\r\n\r\n");
        byte[] frame = [0x81, 5, .. "hello"u8];
        await net.WriteAsync(answer.Concat(frame).ToArray(), ct);

        var header = new byte[2];
        await net.ReadExactlyAsync(header, ct);
        var masked = (header[1] & 0x80) != 0;
        var length = header[1] & 0x7F;
        var mask = new byte[4];
        if (masked)
        {
            await net.ReadExactlyAsync(mask, ct);
        }

        var payload = new byte[length];
        await net.ReadExactlyAsync(payload, ct);
        for (var i = 0; i < payload.Length; i++)
        {
            payload[i] ^= mask[i % 4];
        }

        var reply = Encoding.UTF8.GetBytes($"echo {Encoding.UTF8.GetString(payload)} ({(masked ? "masked" : "unmasked")})");
        await net.WriteAsync((byte[])[0x81, (byte)reply.Length, .. reply], ct);
        var rest = new byte[256];
        while (await net.ReadAsync(rest, ct) > 0)
        {
            // until the client closes
        }
    }
}
