using System.Diagnostics;
using System.Net;
using System.Text.Json;
using CaptionSidecar.Tests.Support;

namespace CaptionSidecar.Relay.Tests.Server;

/// <summary>Relays against a real nats-server, fed as the sidecar feeds it (docs/relay.md).</summary>
[Trait("Category", "Integration")]
public sealed class RelayNatsTests
{
    [Fact]
    public async Task TwoRelays_DeliverEveryFinalInOrder_AndAJoinerGetsTheCurrentLineAtOnce()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var nats = await NatsServer.StartAsync(["demo"], ct);
        await using var relayA = await InProcessRelay.StartAsync(nats.RelayUrl, ct);
        await using var relayB = await InProcessRelay.StartAsync(nats.RelayUrl, ct);
        await using var publisher = new CaptionPublisher(nats.SidecarUrl, "demo");
        await using var esOnA = await RelayViewer.ConnectAsync(relayA.BaseUri, "demo", "es", ct);
        await using var esOnB = await RelayViewer.ConnectAsync(relayB.BaseUri, "demo", "es", ct);
        await using var enOnB = await RelayViewer.ConnectAsync(relayB.BaseUri, "demo", "en", ct);

        // Once each viewer has a first update it is subscribed: from then on it must see every final.
        var esFirst = await publisher.PublishAsync("es", CaptionUpdateKinds.Final, "Hola", cancellationToken: ct);
        var enFirst = await publisher.PublishAsync("en", CaptionUpdateKinds.Final, "Hello", cancellationToken: ct);
        await esOnA.WaitForAsync("es", esFirst.Sequence, ct);
        await esOnB.WaitForAsync("es", esFirst.Sequence, ct);
        await enOnB.WaitForAsync("en", enFirst.Sequence, ct);

        List<long> esFinals = [esFirst.Sequence];
        List<long> enFinals = [enFirst.Sequence];
        for (var i = 0; i < 30; i++)
        {
            await publisher.PublishAsync("es", CaptionUpdateKinds.Tentative, $"linea {i}", " y", cancellationToken: ct);
            esFinals.Add((await publisher.PublishAsync("es", CaptionUpdateKinds.Final, $"linea {i}", cancellationToken: ct)).Sequence);
            enFinals.Add((await publisher.PublishAsync("en", CaptionUpdateKinds.Final, $"line {i}", cancellationToken: ct)).Sequence);
        }

        await esOnA.WaitForAsync("es", esFinals[^1], ct);
        await esOnB.WaitForAsync("es", esFinals[^1], ct);
        await enOnB.WaitForAsync("en", enFinals[^1], ct);
        foreach (var viewer in new[] { esOnA, esOnB })
        {
            var got = viewer.All.Select(c => c.Sequence).ToList();
            Assert.Equal(esFinals, got.Where(esFinals.Contains));
            Assert.Equal(got.Order(), got);
            Assert.All(viewer.All, c => Assert.Equal("es", c.Language));
        }

        Assert.Equal(enFinals, enOnB.All.Select(c => c.Sequence));

        // A viewer joining now gets the current line first.
        var current = await publisher.PublishAsync("es", CaptionUpdateKinds.Tentative, "a medias", " frase", cancellationToken: ct);
        await esOnB.WaitForAsync("es", current.Sequence, ct);
        await using var joiner = await RelayViewer.ConnectAsync(relayB.BaseUri, "demo", "es", ct);
        var first = await joiner.NextAsync(ct);
        Assert.Equal(current.Sequence, first.Sequence);
        Assert.Equal("a medias", first.Lines[0].Final);
        Assert.Equal(" frase", first.Lines[0].Tentative);
    }

    [Fact]
    public async Task ABurstOfTentatives_IsCoalesced_AndTheFinalAfterItArrives()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var nats = await NatsServer.StartAsync(["demo"], ct);
        await using var relay = await InProcessRelay.StartAsync(nats.RelayUrl, ct);
        await using var publisher = new CaptionPublisher(nats.SidecarUrl, "demo");
        await using var viewer = await RelayViewer.ConnectAsync(relay.BaseUri, "demo", "en", ct);
        var start = await publisher.PublishAsync("en", CaptionUpdateKinds.Final, "Start", cancellationToken: ct);
        await viewer.WaitForAsync("en", start.Sequence, ct);

        for (var i = 0; i < 40; i++)
        {
            await publisher.PublishAsync("en", CaptionUpdateKinds.Tentative, "Start", new string('.', i), cancellationToken: ct);
        }

        var final = await publisher.PublishAsync("en", CaptionUpdateKinds.Final, "Start done", cancellationToken: ct);
        await viewer.WaitForAsync("en", final.Sequence, ct);

        var tentatives = viewer.All.Count(c => c.Sequence > start.Sequence && c.Sequence < final.Sequence);
        TestContext.Current.TestOutputHelper?.WriteLine($"40 tentative updates published; {tentatives} forwarded to the viewer");
        Assert.True(tentatives < 40, $"{tentatives} of 40 tentative updates were forwarded");
        Assert.Equal(final.Sequence, viewer.All[^1].Sequence);
        Assert.Contains("relay_messages_coalesced_total", await GetAsync(relay.BaseUri, "/metrics", ct), StringComparison.Ordinal);
    }

    [Fact]
    public async Task LanguagesEndpoint_ListsLiveLanguages_AndAClosedOneIsClearedAndUnlisted()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var nats = await NatsServer.StartAsync(["demo"], ct);
        await using var relay = await InProcessRelay.StartAsync(nats.RelayUrl, ct);
        await using var publisher = new CaptionPublisher(nats.SidecarUrl, "demo");
        await using var viewer = await RelayViewer.ConnectAsync(relay.BaseUri, "demo", "es", ct);

        await publisher.PublishAsync("es", CaptionUpdateKinds.Final, "Hola", cancellationToken: ct);
        await publisher.PublishAsync("en", CaptionUpdateKinds.Final, "Hello", cancellationToken: ct);
        await Poll.UntilAsync(async token => (await Languages(relay, token)).SequenceEqual(["en", "es"]), "en and es listed", ct);

        var closed = await publisher.PublishAsync("es", CaptionUpdateKinds.Closed, string.Empty, cancellationToken: ct);
        await Poll.UntilAsync(async token => (await Languages(relay, token)).SequenceEqual(["en"]), "es unlisted", ct);
        await viewer.WaitForAsync("es", closed.Sequence, ct);
        Assert.True(viewer.All[^1].Cleared);
        Assert.Empty(viewer.All[^1].Lines);

        using var http = new HttpClient { BaseAddress = relay.BaseUri };
        Assert.Equal(HttpStatusCode.BadRequest, (await http.GetAsync(new Uri("/api/watch/languages?stream=not%20a%20name", UriKind.Relative), ct)).StatusCode);
        Assert.Equal("""{"stream":"nobody","languages":[]}""", await http.GetStringAsync(new Uri("/api/watch/languages?stream=nobody", UriKind.Relative), ct));
    }

    [Fact]
    public async Task MalformedUpdates_AreCountedAndNeverForwarded()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var nats = await NatsServer.StartAsync(["demo"], ct);
        await using var relay = await InProcessRelay.StartAsync(nats.RelayUrl, ct);
        await using var publisher = new CaptionPublisher(nats.SidecarUrl, "demo");
        await using var viewer = await RelayViewer.ConnectAsync(relay.BaseUri, "demo", "es", ct);

        await publisher.PublishRawAsync(CaptionSubjects.Subject("demo", "es"), "not json"u8.ToArray(), CaptionUpdateKinds.Final, ct);
        await publisher.PublishRawAsync(CaptionSubjects.Subject("demo", "es"), """{"language":"en","sequence":1,"lines":[],"cleared":false,"timestamp":"2026-01-01T00:00:00Z"}"""u8.ToArray(), CaptionUpdateKinds.Final, ct);
        var good = await publisher.PublishAsync("es", CaptionUpdateKinds.Final, "Bien", cancellationToken: ct);
        await viewer.WaitForAsync("es", good.Sequence, ct);

        Assert.Equal([good.Sequence], viewer.All.Select(c => c.Sequence));
        Assert.Equal(2, relay.Metrics.MessagesRejected);
    }

    [Fact]
    public async Task NatsKilledAndRestarted_ViewersGetCaptionsAgain()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var nats = await NatsServer.StartAsync(["demo"], ct);
        await using var relay = await InProcessRelay.StartAsync(nats.RelayUrl, ct);
        await using var publisher = new CaptionPublisher(nats.SidecarUrl, "demo");
        await using var viewer = await RelayViewer.ConnectAsync(relay.BaseUri, "demo", "en", ct);
        var before = await publisher.PublishAsync("en", CaptionUpdateKinds.Final, "Before", cancellationToken: ct);
        await viewer.WaitForAsync("en", before.Sequence, ct);

        await nats.KillAsync();
        using var http = new HttpClient { BaseAddress = relay.BaseUri };
        await Poll.UntilAsync(
            async token => (await http.GetAsync(new Uri("/healthz", UriKind.Relative), token)).StatusCode == HttpStatusCode.ServiceUnavailable,
            "the relay reports NATS lost", ct);

        await nats.RestartAsync(ct);
        var accepting = Stopwatch.StartNew();
        // The sidecar keeps publishing (its client reconnects by itself too); the first caption a viewer gets after the
        // restart ends the measure.
        var published = before.Sequence;
        await Poll.UntilAsync(
            async token =>
            {
                if (viewer.All[^1].Sequence > before.Sequence)
                {
                    return true;
                }

                try
                {
                    using var attempt = CancellationTokenSource.CreateLinkedTokenSource(token);
                    attempt.CancelAfter(TimeSpan.FromMilliseconds(500));
                    published = (await publisher.PublishAsync("en", CaptionUpdateKinds.Final, "After", cancellationToken: attempt.Token)).Sequence;
                }
                catch (OperationCanceledException) when (!token.IsCancellationRequested)
                {
                }

                return viewer.All[^1].Sequence > before.Sequence;
            },
            "the viewer gets captions after the restart",
            ct,
            timeoutMs: 30000,
            intervalMs: 50);
        accepting.Stop();
        // Kept for the issue note (a figure, not an assertion: timings on a shared machine are noisy).
        var figure = $"{DateTime.UtcNow:O} NATS accepting again -> first caption at the viewer: {accepting.ElapsedMilliseconds} ms\n";
        TestContext.Current.TestOutputHelper?.WriteLine(figure);
        await File.AppendAllTextAsync(Path.Combine(Artifacts(), "nats-restart.txt"), figure, ct);
        Assert.Equal("After", viewer.All[^1].Lines[0].Final);
        Assert.True(published > before.Sequence);
    }

    [Fact]
    public async Task Caps_Refuse503And429_AndAForeignOrigin403_WithClearStatuses()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var nats = await NatsServer.StartAsync(["demo"], ct);
        await using var relay = await InProcessRelay.StartAsync(nats.RelayUrl, ct, o =>
        {
            o.MaxViewers = 3;
            o.MaxViewersPerAddress = 2;
            o.AllowedOrigins.Add("https://streamer.example");
            o.ForwardedFor.Add("127.0.0.1");
        });

        await using var first = await RelayViewer.ConnectAsync(relay.BaseUri, "demo", "en", ct);
        await using var second = await RelayViewer.ConnectAsync(relay.BaseUri, "demo", "en", ct, origin: "https://streamer.example");
        var perAddress = await Assert.ThrowsAsync<RelayRefusedException>(() => RelayViewer.ConnectAsync(relay.BaseUri, "demo", "en", ct));
        Assert.Equal(HttpStatusCode.TooManyRequests, perAddress.Status);

        // From the trusted proxy, the address that counts is the forwarded one.
        await using var third = await RelayViewer.ConnectAsync(relay.BaseUri, "demo", "en", ct, forwardedFor: "203.0.113.7");
        var full = await Assert.ThrowsAsync<RelayRefusedException>(() => RelayViewer.ConnectAsync(relay.BaseUri, "demo", "en", ct, forwardedFor: "203.0.113.8"));
        Assert.Equal(HttpStatusCode.ServiceUnavailable, full.Status);
        Assert.NotNull(full.RetryAfter);

        var origin = await Assert.ThrowsAsync<RelayRefusedException>(() => RelayViewer.ConnectAsync(relay.BaseUri, "demo", "en", ct, origin: "https://evil.example"));
        Assert.Equal(HttpStatusCode.Forbidden, origin.Status);

        Assert.Equal(1, relay.Metrics.Refused("address_full"));
        Assert.Equal(1, relay.Metrics.Refused("relay_full"));
        Assert.Equal(1, relay.Metrics.Refused("origin"));
        var metrics = await GetAsync(relay.BaseUri, "/metrics", ct);
        Assert.Contains("relay_viewers{stream=\"demo\",language=\"en\"} 3", metrics, StringComparison.Ordinal);

        // The bodies say what happened.
        using var http = new HttpClient { BaseAddress = relay.BaseUri };
        using var request = new HttpRequestMessage(HttpMethod.Get, "/ws/watch?stream=demo&lang=en");
        request.Headers.Add("Connection", "Upgrade");
        request.Headers.Add("Upgrade", "websocket");
        request.Headers.Add("Sec-WebSocket-Version", "13");
        request.Headers.Add("Sec-WebSocket-Key", Convert.ToBase64String(new byte[16]));
        request.Headers.Add("X-Forwarded-For", "203.0.113.9");
        using var response = await http.SendAsync(request, ct);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        Assert.Contains("relay full", await response.Content.ReadAsStringAsync(ct), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Endpoints_PageHeaders_NoBodies_NoOtherMethods()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var nats = await NatsServer.StartAsync(["demo"], ct);
        await using var relay = await InProcessRelay.StartAsync(nats.RelayUrl, ct, o => o.AllowedOrigins.Add("https://streamer.example"));
        using var http = new HttpClient { BaseAddress = relay.BaseUri };

        using var overlay = await http.GetAsync(new Uri("/overlay?stream=demo&lang=en", UriKind.Relative), ct);
        Assert.Equal(HttpStatusCode.OK, overlay.StatusCode);
        Assert.Contains("/ws/watch", await http.GetStringAsync(new Uri("/overlay.js", UriKind.Relative), ct), StringComparison.Ordinal);
        Assert.Equal("ok", await http.GetStringAsync(new Uri("/healthz", UriKind.Relative), ct));

        using var watch = await http.GetAsync(new Uri("/watch?stream=demo", UriKind.Relative), ct);
        if (watch.StatusCode == HttpStatusCode.OK)
        {
            var csp = string.Join(' ', watch.Headers.GetValues("Content-Security-Policy"));
            Assert.Contains("connect-src 'self' ws: wss:", csp, StringComparison.Ordinal);
            Assert.Contains("frame-ancestors 'self' https://streamer.example", csp, StringComparison.Ordinal);
            Assert.Equal("nosniff", watch.Headers.GetValues("X-Content-Type-Options").Single());
            Assert.Equal("no-referrer", watch.Headers.GetValues("Referrer-Policy").Single());
        }

        var unknown = await Assert.ThrowsAsync<RelayRefusedException>(() => RelayViewer.ConnectAsync(relay.BaseUri, "nobody", "en", ct));
        Assert.Equal(HttpStatusCode.NotFound, unknown.Status);

        // Viewers send nothing: a message over 1 KiB closes the socket with 1009.
        using (var chatty = new System.Net.WebSockets.ClientWebSocket())
        {
            await chatty.ConnectAsync(new Uri($"ws://{relay.BaseUri.Authority}/ws/watch?stream=demo&lang=en"), ct);
            await chatty.SendAsync(new byte[2048], System.Net.WebSockets.WebSocketMessageType.Text, true, ct);
            var buffer = new byte[1024];
            System.Net.WebSockets.WebSocketReceiveResult result;
            do
            {
                result = await chatty.ReceiveAsync(buffer, ct);
            }
            while (result.MessageType != System.Net.WebSockets.WebSocketMessageType.Close);

            Assert.Equal(System.Net.WebSockets.WebSocketCloseStatus.MessageTooBig, result.CloseStatus);
        }

        using var post = await http.PostAsync(new Uri("/api/watch/languages?stream=demo", UriKind.Relative), new StringContent("x"), ct);
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, post.StatusCode);
        using var put = await http.PutAsync(new Uri("/healthz", UriKind.Relative), null, ct);
        Assert.Equal(HttpStatusCode.MethodNotAllowed, put.StatusCode);
        using var control = await http.GetAsync(new Uri("/api/status", UriKind.Relative), ct);
        Assert.Equal(HttpStatusCode.NotFound, control.StatusCode);
    }

    private static string Artifacts()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "CaptionSidecar.sln")))
        {
            dir = dir.Parent;
        }

        return Directory.CreateDirectory(Path.Combine(dir?.FullName ?? Path.GetTempPath(), "artifacts", "relay")).FullName;
    }

    private static async Task<string[]> Languages(InProcessRelay relay, CancellationToken cancellationToken)
    {
        using var document = JsonDocument.Parse(await GetAsync(relay.BaseUri, "/api/watch/languages?stream=demo", cancellationToken));
        return [.. document.RootElement.GetProperty("languages").EnumerateArray().Select(e => e.GetString()!)];
    }

    private static async Task<string> GetAsync(Uri relay, string path, CancellationToken cancellationToken)
    {
        using var http = new HttpClient { BaseAddress = relay };
        return await http.GetStringAsync(new Uri(path, UriKind.Relative), cancellationToken);
    }
}
