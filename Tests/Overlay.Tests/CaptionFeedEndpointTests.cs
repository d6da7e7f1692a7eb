using System.Net;
using System.Net.WebSockets;
using System.Text;
using CaptionSidecar.Overlay.Tests.Fakes;
using CaptionSidecar.Overlay.WebSockets;

namespace CaptionSidecar.Overlay.Tests;

/// <summary>
/// <see cref="CaptionFeedEndpoint"/> over a real Kestrel: the handshake it answers itself, refusals, the client's
/// frames (ping, close, too big, unmasked), the hooks a relay counts viewers with, and a browser-like client.
/// </summary>
public sealed class CaptionFeedEndpointTests
{
    [Fact(Timeout = 30000)]
    public async Task Upgrade_Rfc6455ExampleKey_Answers101WithItsAcceptAndNoExtension()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var host = await FeedEndpointHost.StartAsync(ct);

        using var client = await RawWebSocket.ConnectAsync(host.Port,
            RawWebSocket.Upgrade("/feed?lang=en", extraHeaders: "Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n"), ct);

        Assert.StartsWith("HTTP/1.1 101", client.ResponseHead, StringComparison.Ordinal);
        var headers = client.ResponseHead.Split("\r\n").Skip(1).Select(h => h.Split(':', 2)).ToDictionary(h => h[0].Trim(), h => h[1].Trim(), StringComparer.OrdinalIgnoreCase);
        Assert.Equal("s3pPLMBiTxaQ9kYGzzhZRbK+xOo=", headers["Sec-WebSocket-Accept"]);
        Assert.Equal("websocket", headers["Upgrade"], ignoreCase: true);
        Assert.Equal("Upgrade", headers["Connection"], ignoreCase: true);
        Assert.DoesNotContain("Sec-WebSocket-Extensions", headers.Keys);
        Assert.Equal("subscribed en", await host.NextHookAsync(ct));
    }

    [Theory(Timeout = 30000)]
    [InlineData("8", "dGhlIHNhbXBsZSBub25jZQ==", 426, "version 13")]
    [InlineData("13", "c2hvcnQ=", 400, "Sec-WebSocket-Key")]
    [InlineData("13", "", 400, "Sec-WebSocket-Key")]
    public async Task Upgrade_BadVersionOrKey_IsRefusedWithAMessage(string version, string key, int status, string message)
    {
        var ct = TestContext.Current.CancellationToken;
        await using var host = await FeedEndpointHost.StartAsync(ct);

        using var client = await RawWebSocket.ConnectAsync(host.Port, RawWebSocket.Upgrade("/feed", key, version) .Replace("Connection: keep-alive, Upgrade", "Connection: Upgrade, close", StringComparison.Ordinal), ct);

        Assert.StartsWith($"HTTP/1.1 {status}", client.ResponseHead, StringComparison.Ordinal);
        if (status == 426)
        {
            Assert.Contains("Sec-WebSocket-Version: 13", client.ResponseHead, StringComparison.OrdinalIgnoreCase);
        }

        Assert.Contains(message, await client.ReadBodyAsync(ct), StringComparison.Ordinal);
        Assert.Equal(0, host.Feed.ClientCount);
    }

    [Fact(Timeout = 30000)]
    public async Task Request_NotAnUpgrade_Is400WithTheEndpointsMessage()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var host = await FeedEndpointHost.StartAsync(ct);
        using var http = new HttpClient();

        using var response = await http.GetAsync(new Uri($"http://127.0.0.1:{host.Port}/feed"), ct);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("/feed is a WebSocket endpoint.", await response.Content.ReadAsStringAsync(ct));
    }

    [Fact(Timeout = 30000)]
    public async Task Ping_SplitAcrossWrites_IsAnsweredWithAPongOfItsPayload()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var host = await FeedEndpointHost.StartAsync(ct);
        using var client = await RawWebSocket.ConnectAsync(host.Port, RawWebSocket.Upgrade("/feed?lang=en"), ct);
        Assert.Equal("subscribed en", await host.NextHookAsync(ct));
        var ping = RawWebSocket.Frame(WebSocketFrames.Ping, "ping 1"u8);

        await client.SendAsync(ping[..3], ct);
        await client.SendAsync(ping[3..], ct);

        Assert.Equal("ping 1"u8.ToArray(), await client.ReadUntilAsync(WebSocketFrames.Pong, ct));
    }

    [Fact(Timeout = 30000)]
    public async Task Close_FromTheClient_IsAnsweredWithItsStatusThenTheConnectionEndsAndTheClientLeft()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var host = await FeedEndpointHost.StartAsync(ct);
        using var client = await RawWebSocket.ConnectAsync(host.Port, RawWebSocket.Upgrade("/feed?lang=es"), ct);
        Assert.Equal("subscribed es", await host.NextHookAsync(ct));

        await client.SendAsync(RawWebSocket.Frame(WebSocketFrames.Close, RawWebSocket.ClosePayload(1000, "done")), ct);

        var close = await client.ReadUntilAsync(WebSocketFrames.Close, ct);
        Assert.Equal(RawWebSocket.ClosePayload(1000), close);
        Assert.True(await client.EndedAsync(ct));
        Assert.Equal("left es ClientLeft", await host.NextHookAsync(ct));
        Assert.Equal(0, host.Feed.ClientCount);
    }

    [Fact(Timeout = 30000)]
    public async Task Message_OverTheLimit_ClosesWith1009AndTheClientIsRefused()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var host = await FeedEndpointHost.StartAsync(ct);
        using var socket = new ClientWebSocket();
        await socket.ConnectAsync(host.FeedUri("en"), ct);
        Assert.Equal("subscribed en", await host.NextHookAsync(ct));

        await socket.SendAsync(new byte[1025], WebSocketMessageType.Text, endOfMessage: true, ct);

        var received = await socket.ReceiveAsync(new byte[256], ct);
        Assert.Equal(WebSocketMessageType.Close, received.MessageType);
        Assert.Equal(WebSocketCloseStatus.MessageTooBig, socket.CloseStatus);
        Assert.Equal("left en Refused", await host.NextHookAsync(ct));
    }

    [Fact(Timeout = 30000)]
    public async Task Frame_Unmasked_ClosesWith1002()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var host = await FeedEndpointHost.StartAsync(ct);
        using var client = await RawWebSocket.ConnectAsync(host.Port, RawWebSocket.Upgrade("/feed?lang=en"), ct);
        Assert.Equal("subscribed en", await host.NextHookAsync(ct));

        await client.SendAsync(RawWebSocket.Frame(WebSocketFrames.Text, "hi"u8, masked: false), ct);

        var close = await client.ReadUntilAsync(WebSocketFrames.Close, ct);
        Assert.Equal(1002, (close![0] << 8) | close[1]);
        Assert.True(await client.EndedAsync(ct));
        Assert.Equal("left en Refused", await host.NextHookAsync(ct));
    }

    [Fact(Timeout = 30000)]
    public async Task ClientWebSocket_GetsTheCurrentStateThenEveryUpdateInOrder_AndLeaves()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var host = await FeedEndpointHost.StartAsync(ct, queueCapacity: 256);
        host.Feed.Publish(OverlayTestServer.Caption("en", 1, ("current", "")));
        using var socket = new ClientWebSocket();
        await socket.ConnectAsync(host.FeedUri("en"), ct);
        Assert.Equal("subscribed en", await host.NextHookAsync(ct));

        for (var i = 2; i <= 200; i++)
        {
            host.Feed.Publish(OverlayTestServer.Caption(i % 3 == 0 ? "es" : "en", i, ($"line {i}", "")));
        }

        // One published as JSON already (what a relay passes on), framed once all the same.
        host.Feed.Publish("en", Encoding.UTF8.GetBytes("""{"language":"en","sequence":201,"lines":[],"cleared":true,"timestamp":"1970-01-01T00:00:00+00:00"}"""));
        var expected = Enumerable.Range(1, 201).Where(i => i % 3 != 0).Select(i => (long)i).ToList();
        var received = new List<long>();
        while (received.Count < expected.Count)
        {
            var update = await CaptionReader.ReadAsync(socket, ct);
            Assert.Equal("en", update?.Language);
            received.Add(update!.Sequence);
        }

        Assert.Equal(expected, received);
        await socket.CloseAsync(WebSocketCloseStatus.NormalClosure, "bye", ct);
        Assert.Equal(WebSocketCloseStatus.NormalClosure, socket.CloseStatus);
        Assert.Equal("left en ClientLeft", await host.NextHookAsync(ct));
    }

    [Fact(Timeout = 30000)]
    public async Task Publish_ClientStopsReading_ItIsDroppedAsTooSlowAndTheOthersGetEverything()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var host = await FeedEndpointHost.StartAsync(ct, queueCapacity: 4);
        using var stalled = await RawWebSocket.ConnectAsync(host.Port, RawWebSocket.Upgrade("/feed?lang=en"), ct);
        Assert.Equal("subscribed en", await host.NextHookAsync(ct));
        var readers = new List<ClientWebSocket>();
        for (var i = 0; i < 3; i++)
        {
            var reader = new ClientWebSocket();
            await reader.ConnectAsync(host.FeedUri("en"), ct);
            Assert.Equal("subscribed en", await host.NextHookAsync(ct));
            readers.Add(reader);
        }

        var big = new string('x', 64 * 1024);
        long sequence = 0;
        while (host.Feed.SlowClientsDropped == 0)
        {
            Assert.True(sequence < 2000, "the stalled client was never dropped");
            sequence++;
            host.Feed.Publish(OverlayTestServer.Caption("en", sequence, (big, "")));
            foreach (var reader in readers)
            {
                Assert.Equal(sequence, (await CaptionReader.ReadAsync(reader, ct))?.Sequence);
            }
        }

        Assert.Equal("left en TooSlow", await host.NextHookAsync(ct));
        Assert.Equal(3, host.Feed.ClientCount);
        foreach (var reader in readers)
        {
            Assert.Equal(WebSocketState.Open, reader.State);
            reader.Dispose();
        }
    }

    [Fact(Timeout = 30000)]
    public async Task Http2_ExtendedConnect_IsServedThroughTheWebSocketFallback()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var host = await FeedEndpointHost.StartAsync(ct, http2: true);
        host.Feed.Publish(OverlayTestServer.Caption("en", 1, ("current", "")));
        using var invoker = new HttpMessageInvoker(new SocketsHttpHandler());
        using var socket = new ClientWebSocket();
        socket.Options.HttpVersion = HttpVersion.Version20;
        socket.Options.HttpVersionPolicy = HttpVersionPolicy.RequestVersionExact;

        await socket.ConnectAsync(host.FeedUri("en"), invoker, ct);
        Assert.Equal("subscribed en", await host.NextHookAsync(ct));
        host.Feed.Publish(OverlayTestServer.Caption("en", 2, ("next", "")));

        Assert.Equal(1, (await CaptionReader.ReadAsync(socket, ct))?.Sequence);
        Assert.Equal(2, (await CaptionReader.ReadAsync(socket, ct))?.Sequence);
        await socket.SendAsync(new byte[1025], WebSocketMessageType.Binary, endOfMessage: true, ct);
        Assert.Equal(WebSocketMessageType.Close, (await socket.ReceiveAsync(new byte[256], ct)).MessageType);
        Assert.Equal(WebSocketCloseStatus.MessageTooBig, socket.CloseStatus);
        Assert.Equal("left en Refused", await host.NextHookAsync(ct));
    }

    [Fact(Timeout = 30000)]
    public async Task ServerStopping_ClientGets1001AndAnswers_TheConnectionEndsAndTheClientLeftForTheStop()
    {
        var ct = TestContext.Current.CancellationToken;
        // A clock that never moves: the close handshake's timeouts cannot end anything, only the client's answer can.
        await using var host = await FeedEndpointHost.StartAsync(ct, time: new Microsoft.Extensions.Time.Testing.FakeTimeProvider());
        using var socket = new ClientWebSocket();
        await socket.ConnectAsync(host.FeedUri("en"), ct);
        Assert.Equal("subscribed en", await host.NextHookAsync(ct));

        host.SignalStopping();

        var received = await socket.ReceiveAsync(new byte[256], ct);
        Assert.Equal(WebSocketMessageType.Close, received.MessageType);
        Assert.Equal(WebSocketCloseStatus.EndpointUnavailable, socket.CloseStatus);
        Assert.Equal("left en ServerStopping", await host.NextHookAsync(ct));
        // The answer is read after the stop cancelled the reader's wait: the server then ends the connection.
        await socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, null, ct);
        Assert.Equal("ended", await host.NextHookAsync(ct));
    }
}
