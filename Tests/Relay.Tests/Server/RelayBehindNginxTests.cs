using System.Net;
using CaptionSidecar.Tests.Support;

namespace CaptionSidecar.Relay.Tests.Server;

/// <summary>A relay behind Debian's nginx (docs/relay.md): pages, API and the WebSocket upgrade pass; caps count the viewer.</summary>
[Trait("Category", "Integration")]
public sealed class RelayBehindNginxTests
{
    [Fact]
    public async Task PageApiAndFeed_WorkThroughNginx_AndPerAddressCapsCountTheForwardedViewer()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var nats = await NatsServer.StartAsync(["demo"], ct);
        await using var relay = await InProcessRelay.StartAsync(nats.RelayUrl, ct, o =>
        {
            o.Streams = null;
            o.MaxViewersPerAddress = 2;
            o.ForwardedFor.Add(NginxProxy.ProxyAddress);
        });
        await using var nginx = await NginxProxy.StartAsync(relay.BaseUri, ct);
        using var http = new HttpClient { BaseAddress = nginx.BaseUri };

        using var page = await http.GetAsync(new Uri("/overlay?stream=demo&lang=en", UriKind.Relative), ct);
        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        Assert.Contains("default-src", string.Join(' ', page.Headers.GetValues("Content-Security-Policy")), StringComparison.Ordinal);
        using var watch = await http.GetAsync(new Uri("/watch?stream=demo", UriKind.Relative), ct);
        Assert.True(watch.StatusCode is HttpStatusCode.OK or HttpStatusCode.NotFound, $"/watch answered {watch.StatusCode}");

        await using var publisher = new CaptionPublisher(nats.SidecarUrl, "demo");
        var hello = await publisher.PublishAsync("en", CaptionUpdateKinds.Final, "Through nginx", cancellationToken: ct);
        await Poll.UntilAsync(
            async token => (await http.GetStringAsync(new Uri("/api/watch/languages?stream=demo", UriKind.Relative), token)) == """{"stream":"demo","languages":["en"]}""",
            "the languages API through nginx lists en", ct);

        // Through nginx: the current line first, then live updates.
        await using var first = await RelayViewer.ConnectAsync(nginx.BaseUri, "demo", "en", ct);
        Assert.Equal(hello.Sequence, (await first.NextAsync(ct)).Sequence);
        var live = await publisher.PublishAsync("en", CaptionUpdateKinds.Final, "Live through nginx", cancellationToken: ct);
        Assert.Equal(live.Sequence, (await first.NextAsync(ct)).Sequence);

        // A viewer's own X-Forwarded-For is kept by nginx but the relay counts the address nginx saw (127.0.0.1),
        // not nginx's (127.0.0.2): a third viewer from 127.0.0.1, direct or through nginx, is over the cap of 2.
        await using var second = await RelayViewer.ConnectAsync(nginx.BaseUri, "demo", "en", ct, forwardedFor: "198.51.100.1");
        var viaProxy = await Assert.ThrowsAsync<RelayRefusedException>(() => RelayViewer.ConnectAsync(nginx.BaseUri, "demo", "en", ct));
        Assert.Equal(HttpStatusCode.TooManyRequests, viaProxy.Status);
        var direct = await Assert.ThrowsAsync<RelayRefusedException>(() => RelayViewer.ConnectAsync(relay.BaseUri, "demo", "en", ct));
        Assert.Equal(HttpStatusCode.TooManyRequests, direct.Status);
        // A client cannot pose as another address by sending the header itself to the relay.
        var spoofed = await Assert.ThrowsAsync<RelayRefusedException>(() => RelayViewer.ConnectAsync(relay.BaseUri, "demo", "en", ct, forwardedFor: "203.0.113.50"));
        Assert.Equal(HttpStatusCode.TooManyRequests, spoofed.Status);
    }
}
