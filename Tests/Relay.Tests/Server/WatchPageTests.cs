using CaptionSidecar.Tests.Support;
using CaptionSidecar.Tests.Support.Browser;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace CaptionSidecar.Relay.Tests.Server;

/// <summary>The viewer page (<c>/watch</c>) in Debian's Chromium against a relay on a real nats-server.</summary>
[Collection(ChromiumCollection.Name)]
[Trait("Category", "Integration")]
public sealed class WatchPageTests(ChromiumFixture chromium)
{
    [Fact(Timeout = 90000)]
    public async Task WatchPage_OnAPhone_PicksALanguage_SwitchesAndRemembersIt()
    {
        var ct = TestContext.Current.CancellationToken;
        var browser = chromium.RequireBrowser();
        await using var nats = await NatsServer.StartAsync(["demo"], ct);
        await using var relay = await InProcessRelay.StartAsync(nats.RelayUrl, ct);
        await using var publisher = new CaptionPublisher(nats.SidecarUrl, "demo");
        await using var pages = new BrowserPages(browser);
        await publisher.PublishAsync("en", CaptionUpdateKinds.Final, "Welcome to the stream.", cancellationToken: ct);
        var es = await publisher.PublishAsync("es", CaptionUpdateKinds.Final, "Bienvenidos al directo.", cancellationToken: ct);
        await WaitListedAsync(relay, ["en", "es"], ct);

        // A phone: 390 px wide. Chromium's language is en-US, so English is chosen first.
        var page = await pages.OpenAsync($"{relay.BaseUri}watch?stream=demo", width: 390, height: 844);
        var picker = page.Locator("#language");
        await Expect(page.Locator("body")).ToHaveAttributeAsync("data-state", "live");
        await Expect(picker.Locator("option")).ToHaveCountAsync(2);
        await Expect(picker).ToHaveValueAsync("en");
        await Expect(page.Locator("#captions .line .final")).ToHaveTextAsync("Welcome to the stream.");

        // Live updates, tentative words shown apart; a finished line is read out once to screen readers.
        await publisher.PublishAsync("en", CaptionUpdateKinds.Tentative, "Today we", " build", cancellationToken: ct);
        await Expect(page.Locator("#captions .line .tentative")).ToHaveTextAsync(" build");
        await publisher.PublishAsync("en", CaptionUpdateKinds.Final, "Today we build a relay.", cancellationToken: ct);
        await Expect(page.Locator("#captions .line .final")).ToHaveTextAsync("Today we build a relay.");
        Assert.Equal("polite", await page.Locator("#spoken").GetAttributeAsync("aria-live"));
        await Expect(page.Locator("#spoken p").Last).ToHaveTextAsync("Today we build a relay.");

        // Switching language shows that language's current line at once.
        await picker.SelectOptionAsync("es");
        await Expect(page.Locator("#captions")).ToHaveAttributeAsync("data-language", "es");
        await Expect(page.Locator("#captions .line .final")).ToHaveTextAsync(es.Lines[0].Final);
        await publisher.PublishAsync("es", CaptionUpdateKinds.Final, "Hoy construimos un relé.", cancellationToken: ct);
        await Expect(page.Locator("#captions .line .final")).ToHaveTextAsync("Hoy construimos un relé.");

        // Text size and colours, remembered with the language across a reload.
        var before = await FontSizeAsync(page);
        await page.Locator("#larger").ClickAsync();
        Assert.True(await FontSizeAsync(page) > before, "A+ makes the captions larger");
        await page.Locator("#theme").SelectOptionAsync("contrast");
        await Expect(page.Locator("html")).ToHaveAttributeAsync("data-theme", "contrast");
        await page.ReloadAsync();
        await Expect(page.Locator("#language")).ToHaveValueAsync("es");
        await Expect(page.Locator("html")).ToHaveAttributeAsync("data-theme", "contrast");
        await Expect(page.Locator("#captions .line .final")).ToHaveTextAsync("Hoy construimos un relé.");
        Assert.True(await FontSizeAsync(page) > before, "the size is remembered");

        // Nothing wider than the phone, and the controls are large enough to touch.
        Assert.True(await page.EvaluateAsync<bool>("() => document.documentElement.scrollWidth <= 390"), "no horizontal scrolling at 390 px");
        var box = await page.Locator("#larger").BoundingBoxAsync();
        Assert.True(box is { Width: >= 44, Height: >= 44 }, $"the size button is {box?.Width}x{box?.Height}");
        var artifacts = Path.Combine(TestHost.RepoRoot, "artifacts", "relay");
        Directory.CreateDirectory(artifacts);
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(artifacts, "watch-phone.png"), FullPage = true });
        Assert.Empty(pages.UnexpectedErrors()); // a CSP violation would show here
    }

    [Fact(Timeout = 90000)]
    public async Task WatchPage_NoCaptionsFor10Seconds_SaysPaused_AndLiveAgainOnTheNextLine()
    {
        var ct = TestContext.Current.CancellationToken;
        var browser = chromium.RequireBrowser();
        await using var nats = await NatsServer.StartAsync(["demo"], ct);
        await using var relay = await InProcessRelay.StartAsync(nats.RelayUrl, ct);
        await using var publisher = new CaptionPublisher(nats.SidecarUrl, "demo");
        await using var pages = new BrowserPages(browser);
        await publisher.PublishAsync("en", CaptionUpdateKinds.Final, "First line.", cancellationToken: ct);
        await WaitListedAsync(relay, ["en"], ct);

        var page = await pages.OpenAsync("about:blank");
        await page.Clock.InstallAsync();
        await page.GotoAsync($"{relay.BaseUri}watch?stream=demo");
        await Expect(page.Locator("#captions .line .final")).ToHaveTextAsync("First line.");
        await Expect(page.Locator("body")).ToHaveAttributeAsync("data-state", "live");

        await page.Clock.FastForwardAsync("00:09");
        await Expect(page.Locator("body")).ToHaveAttributeAsync("data-state", "live");
        await page.Clock.FastForwardAsync("00:02");
        await Expect(page.Locator("body")).ToHaveAttributeAsync("data-state", "paused");
        await Expect(page.Locator("#status")).ToContainTextAsync("Captions paused");

        await publisher.PublishAsync("en", CaptionUpdateKinds.Final, "Back again.", cancellationToken: ct);
        await Expect(page.Locator("#captions .line .final")).ToHaveTextAsync("Back again.");
        await Expect(page.Locator("body")).ToHaveAttributeAsync("data-state", "live");
    }

    [Fact(Timeout = 120000)]
    public async Task WatchPage_RelayKilled_ReconnectsToItWhenItReturns()
    {
        var ct = TestContext.Current.CancellationToken;
        var browser = chromium.RequireBrowser();
        await using var nats = await NatsServer.StartAsync(["demo"], ct);
        var port = TestHost.FreePort();
        var relay = await InProcessRelay.StartAsync(nats.RelayUrl, ct, port: port);
        await using var publisher = new CaptionPublisher(nats.SidecarUrl, "demo");
        await using var pages = new BrowserPages(browser);
        try
        {
            await publisher.PublishAsync("en", CaptionUpdateKinds.Final, "Before the relay went away.", cancellationToken: ct);
            await WaitListedAsync(relay, ["en"], ct);
            var page = await pages.OpenAsync($"{relay.BaseUri}watch?stream=demo");
            await Expect(page.Locator("#captions .line .final")).ToHaveTextAsync("Before the relay went away.");

            await relay.DisposeAsync();
            await Expect(page.Locator("body")).ToHaveAttributeAsync("data-state", "reconnecting");

            await publisher.PublishAsync("en", CaptionUpdateKinds.Final, "After it came back.", cancellationToken: ct);
            relay = await InProcessRelay.StartAsync(nats.RelayUrl, ct, port: port);
            // Full jitter under a 15 s cap: the page is back within one capped wait.
            await Expect(page.Locator("#captions .line .final")).ToHaveTextAsync("After it came back.", new() { Timeout = 30000 });
            await Expect(page.Locator("body")).ToHaveAttributeAsync("data-state", "live");
        }
        finally
        {
            await relay.DisposeAsync();
        }
    }

    private static Task<double> FontSizeAsync(IPage page) =>
        page.EvaluateAsync<double>("() => parseFloat(getComputedStyle(document.getElementById('captions')).fontSize)");

    private static async Task WaitListedAsync(InProcessRelay relay, string[] languages, CancellationToken ct)
    {
        using var http = new HttpClient { BaseAddress = relay.BaseUri };
        await Poll.UntilAsync(
            async token => languages.All((await http.GetStringAsync(new Uri("/api/watch/languages?stream=demo", UriKind.Relative), token)).Contains),
            $"the relay lists {string.Join(", ", languages)}",
            ct,
            timeoutMs: 20000);
    }
}
