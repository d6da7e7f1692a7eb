using CaptionSidecar.Tests.Support.Browser;
using CaptionSidecar.Tests.Support;
using System.Text.Json;
using System.Text.Json.Nodes;
using CaptionSidecar.Overlay.Tests.Fakes;
using static Microsoft.Playwright.Assertions;

namespace CaptionSidecar.Overlay.Tests.Browser;

[Collection(ChromiumCollection.Name)]
[Trait("Category", "Integration")]
public sealed class ControlPageTests(ChromiumFixture chromium)
{
    [Fact(Timeout = 30000)]
    public async Task ControlPage_AfterTokenLogin_TogglesLanguageThroughTheApi()
    {
        var ct = TestContext.Current.CancellationToken;
        var browser = chromium.RequireBrowser();
        await using var server = await OverlayTestServer.StartAsync(ct);
        await using var pages = new BrowserPages(browser);
        var page = await pages.OpenAsync($"{server.BaseAddress}control?token={server.Token.Value}", 300, 700);

        Assert.Equal($"{server.BaseAddress}control", page.Url);
        var spanish = page.Locator("input[data-code=es]");
        await Expect(spanish).Not.ToBeCheckedAsync();
        await spanish.ClickAsync();

        await Poll.UntilAsync(() => server.Surface.CallsSnapshot().Contains("set es True"), "the host saw the toggle", ct);
        await Expect(spanish).ToBeCheckedAsync();
        using var client = server.CreateClient();
        using var languages = JsonDocument.Parse(await client.GetStringAsync("/api/languages", ct));
        Assert.True(languages.RootElement.EnumerateArray().Single(l => l.GetProperty("code").GetString() == "es").GetProperty("enabled").GetBoolean());
        await Expect(page.Locator("#message")).ToBeHiddenAsync();

        await page.Locator("#test").ClickAsync();
        await Poll.UntilAsync(() => server.Surface.CallsSnapshot().Contains("test"), "the host saw the test button", ct);
        await page.Locator("#clear").ClickAsync();
        await Poll.UntilAsync(() => server.Surface.CallsSnapshot().Contains("clear"), "the host saw the clear button", ct);
        Assert.Empty(pages.UnexpectedErrors());
    }

    [Fact(Timeout = 30000)]
    public async Task ControlPage_RendersStatusAndFitsA300PixelDock()
    {
        var ct = TestContext.Current.CancellationToken;
        var browser = chromium.RequireBrowser();
        await using var server = await OverlayTestServer.StartAsync(ct);
        await using var pages = new BrowserPages(browser);
        var page = await pages.OpenAsync($"{server.BaseAddress}control", 300, 700);

        await Expect(page.Locator("#status-engine")).ToHaveTextAsync("test-pattern");
        await Expect(page.Locator("#status-uptime")).ToHaveTextAsync("1h 02m 05s");
        await Expect(page.Locator("#status-obs")).ToHaveTextAsync("connected");
        await Expect(page.Locator("#status-audio")).ToHaveTextAsync("-18.5 dBFS");
        await Expect(page.Locator("#status-audio-meter")).ToHaveAttributeAsync("aria-valuenow", "-24.5");
        await Expect(page.Locator("#status-speech")).ToHaveAttributeAsync("data-speech", "true");
        await Expect(page.Locator("#status-rates")).ToHaveTextAsync("requests 90/100");
        await Expect(page.Locator("#tracks li")).ToHaveTextAsync(["en: connected · 3 rollovers", "es: reconnecting · 1 reconnect, 2 watchdog restarts (socket closed)"]);
        await Expect(page.Locator("#status-gate")).ToHaveTextAsync("off");
        await Expect(page.Locator("#errors li")).ToHaveTextAsync(["es session closed by server"]);
        await Expect(page.Locator("#errors-title")).ToHaveTextAsync("1 error");
        await Expect(page.Locator("#outputs li")).ToHaveTextAsync(["console: ok", "transcript: ok"]);
        await Expect(page.Locator("#overlay-url")).ToHaveValueAsync($"{server.BaseAddress}overlay");

        server.Surface.UpdateStatus(s => s["obsState"] = "disconnected");
        await Expect(page.Locator("#status-obs")).ToHaveTextAsync("disconnected");
        server.Surface.UpdateStatus(s =>
        {
            s["audioLevelDbfs"] = null;
            s["audioRmsDbfs"] = null;
            s["speech"] = false;
        });
        await Expect(page.Locator("#status-speech")).ToHaveAttributeAsync("data-speech", "false");
        await Expect(page.Locator("#status-audio-meter")).ToHaveAttributeAsync("aria-valuenow", "-60");
        await Expect(page.Locator("#status-audio")).ToHaveTextAsync("no audio");
        server.Surface.UpdateStatus(s =>
        {
            s["voiceGateOpen"] = false;
            s["heldBackSeconds"] = 754.2;
        });
        await Expect(page.Locator("#status-gate")).ToHaveTextAsync("holding silence, 0h 12m 34s held back");
        await Expect(page.Locator("#status-paused")).ToBeHiddenAsync();
        server.Surface.UpdateStatus(s =>
        {
            s["muted"] = true;
            s["mutedSeconds"] = 12.5;
        });
        await Expect(page.Locator("#status-paused")).ToBeVisibleAsync();
        await Expect(page.Locator("#status-paused")).ToHaveTextAsync("Paused: OBS mic muted");
        Assert.True(await page.EvaluateAsync<int>("() => document.documentElement.scrollWidth") <= 300, "the control page is wider than a 300 px dock");
        server.Surface.UpdateStatus(s => s["muted"] = false);
        await Expect(page.Locator("#status-paused")).ToBeHiddenAsync();
        Assert.Empty(pages.UnexpectedErrors());
    }

    [Fact(Timeout = 30000)]
    public async Task ControlPage_OutputFails_ErrorsAndTheFailingOutputShowInViewAndGoWhenItRecovers()
    {
        var ct = TestContext.Current.CancellationToken;
        var browser = chromium.RequireBrowser();
        await using var server = await OverlayTestServer.StartAsync(ct);
        server.Surface.UpdateStatus(s => s["recentErrors"] = new JsonArray());
        await using var pages = new BrowserPages(browser);
        var page = await pages.OpenAsync($"{server.BaseAddress}control", 300, 700);
        await Expect(page.Locator("body[data-status-loaded=true]")).ToBeVisibleAsync();
        await Expect(page.Locator("#errors-box")).ToBeHiddenAsync();

        server.Surface.UpdateStatus(s =>
        {
            s["recentErrors"] = new JsonArray("transcript: disk full; 3 lines not written yet", "es: socket closed");
            var transcript = s["outputs"]![1]!;
            transcript["failed"] = 3;
            transcript["queued"] = 3;
            transcript["lastError"] = "disk full";
        });

        // At the top of the status, where a moderator sees it without scrolling the dock.
        await Expect(page.Locator("#errors-box")).ToBeVisibleAsync();
        await Expect(page.Locator("#errors-box")).ToBeInViewportAsync();
        await Expect(page.Locator("#errors-title")).ToHaveTextAsync("2 errors");
        await Expect(page.Locator("#errors li")).ToHaveTextAsync(["transcript: disk full; 3 lines not written yet", "es: socket closed"]);
        var transcriptLine = page.Locator("#outputs li").Nth(1);
        await Expect(transcriptLine).ToHaveTextAsync("transcript: failing · 3 failed, 3 queued (disk full)");
        await Expect(transcriptLine).ToHaveAttributeAsync("data-failing", "true");
        await Expect(page.Locator("#outputs li").Nth(0)).ToHaveAttributeAsync("data-failing", "false");
        Assert.True(await page.EvaluateAsync<int>("() => document.documentElement.scrollWidth") <= 300, "the errors made the control page wider than a 300 px dock");

        server.Surface.UpdateStatus(s =>
        {
            s["recentErrors"] = new JsonArray();
            s["outputs"]![1]!["state"] = "ok";
            s["outputs"]![1]!["failed"] = 0;
            s["outputs"]![1]!["queued"] = 0;
            s["outputs"]![1]!["lastError"] = null;
        });
        await Expect(page.Locator("#errors-box")).ToBeHiddenAsync();
        await Expect(transcriptLine).ToHaveTextAsync("transcript: ok");
        Assert.Empty(pages.UnexpectedErrors());
    }

    [Fact(Timeout = 30000)]
    public async Task ControlPage_StatusWithoutFieldsThePageKnows_StillRendersWhatItHas()
    {
        var ct = TestContext.Current.CancellationToken;
        var browser = chromium.RequireBrowser();
        await using var server = await OverlayTestServer.StartAsync(ct);
        // A host that adds fields of its own and leaves out ones the page reads: the page shows what is there.
        server.Surface.UpdateStatus(s =>
        {
            foreach (var name in new[] { "tracks", "rateLimits", "recentErrors", "outputs", "captionsPerMinute" })
            {
                s.Remove(name);
            }

            s["somethingNew"] = new JsonObject { ["count"] = 1 };
        });
        await using var pages = new BrowserPages(browser);
        var page = await pages.OpenAsync($"{server.BaseAddress}control", 300, 700);

        await Expect(page.Locator("body[data-status-loaded=true]")).ToBeVisibleAsync();
        await Expect(page.Locator("#status-engine")).ToHaveTextAsync("test-pattern");
        await Expect(page.Locator("#status-rates")).ToHaveTextAsync("–");
        await Expect(page.Locator("#tracks li")).ToHaveCountAsync(0);
        await Expect(page.Locator("#message")).ToBeHiddenAsync();
        Assert.Empty(pages.UnexpectedErrors());
    }

    [Fact(Timeout = 30000)]
    public async Task ControlPage_WithoutLogin_ToggleIsRefusedAndExplained()
    {
        var ct = TestContext.Current.CancellationToken;
        var browser = chromium.RequireBrowser();
        await using var server = await OverlayTestServer.StartAsync(ct);
        await using var pages = new BrowserPages(browser);
        var page = await pages.OpenAsync($"{server.BaseAddress}control", 300, 700);

        var spanish = page.Locator("input[data-code=es]");
        await spanish.ClickAsync();

        await Expect(page.Locator("#message")).ToContainTextAsync("Not signed in");
        await Expect(spanish).Not.ToBeCheckedAsync();
        Assert.DoesNotContain("set es True", server.Surface.CallsSnapshot());
    }
}
