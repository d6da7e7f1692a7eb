using CaptionSidecar.Tests.Support.Browser;
using System.Text.Json.Nodes;
using CaptionSidecar.Overlay.Tests.Fakes;
using CaptionSidecar.Tests.Support;
using static Microsoft.Playwright.Assertions;

namespace CaptionSidecar.Overlay.Tests.Browser;

/// <summary>The control page's Speakers section, in Chromium against the fake host (two speakers: Alice and Bob).</summary>
[Collection(ChromiumCollection.Name)]
[Trait("Category", "Integration")]
public sealed class ControlPageSpeakerTests(ChromiumFixture chromium)
{
    [Fact(Timeout = 30000)]
    public async Task Speakers_RowsShowNamesInTheirColoursMetersAndInputs_ToggleMutesThroughTheApi()
    {
        var ct = TestContext.Current.CancellationToken;
        var browser = chromium.RequireBrowser();
        await using var server = await OverlayTestServer.StartAsync(ct);
        await using var pages = new BrowserPages(browser);
        var page = await pages.OpenAsync($"{server.BaseAddress}control?token={server.Token.Value}", 300, 700);

        await Expect(page.Locator("#speakers-section")).ToBeVisibleAsync();
        await Expect(page.Locator("#speakers li .speaker-name")).ToHaveTextAsync(["Alice", "Bob"]);
        var alice = page.Locator("#speakers li[data-speaker=Alice]");
        var bob = page.Locator("#speakers li[data-speaker=Bob]");
        await Expect(alice.Locator(".speaker-name")).ToHaveCSSAsync("color", "rgb(79, 195, 247)");
        await Expect(bob.Locator(".speaker-name")).ToHaveCSSAsync("color", "rgb(255, 183, 77)");
        await Expect(alice.Locator(".speaker-language")).ToHaveTextAsync("en");
        await Expect(bob.Locator(".speaker-language")).ToHaveTextAsync("es");
        // RMS -20.5 dBFS fills (60 - 20.5) / 60 of the -60..0 bar; the peak tick sits at -12.5.
        await Expect(alice.Locator(".level")).ToHaveAttributeAsync("aria-valuenow", "-20.5");
        Assert.StartsWith("65.83", await alice.Locator(".level-rms").EvaluateAsync<string>("e => e.style.width"), StringComparison.Ordinal);
        Assert.StartsWith("calc(79.16", await alice.Locator(".level-peak").EvaluateAsync<string>("e => e.style.left"), StringComparison.Ordinal);
        await Expect(alice.Locator(".speech")).ToHaveAttributeAsync("data-speech", "true");
        await Expect(alice.Locator(".speaker-state")).ToHaveTextAsync("receiving");
        await Expect(alice.Locator(".speaker-detail")).ToBeHiddenAsync();
        await Expect(bob.Locator(".level")).ToHaveAttributeAsync("aria-valuenow", "-60");
        await Expect(bob.Locator(".speech")).ToHaveAttributeAsync("data-speech", "false");
        await Expect(bob.Locator(".speaker-state")).ToHaveTextAsync("waiting-for-audio");
        await Expect(bob.Locator(".speaker-detail")).ToHaveTextAsync("Waiting for audio from device:usb-mic");
        await Expect(page.Locator("#speakers .speaker-toggle")).ToHaveTextAsync(["Captioned", "Captioned"]);

        await bob.Locator(".speaker-toggle").ClickAsync();

        await Poll.UntilAsync(() => server.Surface.CallsSnapshot().Contains("speaker Bob False"), "the host saw Bob muted", ct);
        await Expect(bob.Locator(".speaker-toggle")).ToHaveTextAsync("Muted");
        await Expect(bob).ToHaveAttributeAsync("data-captioned", "false");
        await Expect(alice.Locator(".speaker-toggle")).ToHaveTextAsync("Captioned");
        await Expect(page.Locator("#message")).ToBeHiddenAsync();
        Assert.True(await page.EvaluateAsync<int>("() => document.documentElement.scrollWidth") <= 300, "the speakers made the control page wider than a 300 px dock");

        // The level and state follow the host's status polls; muting in OBS shows on the row.
        server.Surface.UpdateStatus(s =>
        {
            var b = s["speakers"]![1]!;
            b["inputState"] = "receiving";
            b["inputDetail"] = null;
            b["rmsDbfs"] = -30.0;
            b["levelDbfs"] = -24.0;
            b["speech"] = true;
            b["mutedInObs"] = true;
        });
        await Expect(bob.Locator(".level")).ToHaveAttributeAsync("aria-valuenow", "-30");
        await Expect(bob.Locator(".speaker-state")).ToHaveTextAsync("receiving · muted in OBS");
        await Expect(bob.Locator(".speaker-detail")).ToBeHiddenAsync();
        await Expect(bob.Locator(".speaker-toggle")).ToHaveTextAsync("Muted");

        await bob.Locator(".speaker-toggle").ClickAsync();

        await Poll.UntilAsync(() => server.Surface.CallsSnapshot().Contains("speaker Bob True"), "the host saw Bob captioned again", ct);
        await Expect(bob.Locator(".speaker-toggle")).ToHaveTextAsync("Captioned");
        await Expect(bob).ToHaveAttributeAsync("data-captioned", "true");
        Assert.Empty(pages.UnexpectedErrors());
    }

    [Fact(Timeout = 30000)]
    public async Task Speakers_UnnamedSpeakerShowsAsItsInput_HostTextNeverBecomesMarkupOrStyle()
    {
        var ct = TestContext.Current.CancellationToken;
        var browser = chromium.RequireBrowser();
        var surface = new FakeControlSurface();
        surface.UpdateStatus(s => s["speakers"] = new JsonArray(Speaker("main", label: false, colour: null, input: "file:/tmp/audio.fifo")));
        await using var server = await OverlayTestServer.StartAsync(ct, surface: surface);
        await using var pages = new BrowserPages(browser);
        var page = await pages.OpenAsync($"{server.BaseAddress}control", 300, 700);

        // One unnamed speaker: a single row, named by its input.
        await Expect(page.Locator("#speakers li")).ToHaveCountAsync(1);
        await Expect(page.Locator("#speakers li[data-speaker=main] .speaker-name")).ToHaveTextAsync("file:/tmp/audio.fifo");
        var plainColour = await page.Locator("#speakers li .speaker-language").EvaluateAsync<string>("e => getComputedStyle(e).color");

        server.Surface.UpdateStatus(s => s["speakers"] = new JsonArray(
            Speaker("<img src=x onerror=\"document.title='pwned'\">", label: true, colour: "red; background: url(http://evil.example/x)", input: "default"),
            Speaker("Eve", label: true, colour: "#12345", input: "default")));

        await Expect(page.Locator("#speakers li .speaker-name")).ToHaveTextAsync(["<img src=x onerror=\"document.title='pwned'\">", "Eve"]);
        await Expect(page.Locator("#speakers img")).ToHaveCountAsync(0);
        await Expect(page.Locator("#speakers li .speaker-name").First).ToHaveCSSAsync("color", plainColour);
        await Expect(page.Locator("#speakers li .speaker-name").Nth(1)).ToHaveCSSAsync("color", plainColour);
        await Expect(page.Locator("#speakers li .speaker-name").First).ToHaveCSSAsync("background-image", "none");
        Assert.NotEqual("pwned", await page.TitleAsync());

        // A host whose status has no speakers: no section.
        server.Surface.UpdateStatus(s => s.Remove("speakers"));
        await Expect(page.Locator("#speakers-section")).ToBeHiddenAsync();
        await Expect(page.Locator("#speakers li")).ToHaveCountAsync(0);
        Assert.Empty(pages.UnexpectedErrors());
    }

    [Fact(Timeout = 30000)]
    public async Task Speakers_WithoutLogin_ToggleIsRefusedAndExplained()
    {
        var ct = TestContext.Current.CancellationToken;
        var browser = chromium.RequireBrowser();
        await using var server = await OverlayTestServer.StartAsync(ct);
        await using var pages = new BrowserPages(browser);
        var page = await pages.OpenAsync($"{server.BaseAddress}control", 300, 700);
        var alice = page.Locator("#speakers li[data-speaker=Alice]");

        await alice.Locator(".speaker-toggle").ClickAsync();

        await Expect(page.Locator("#message")).ToContainTextAsync("Not signed in");
        await Expect(alice.Locator(".speaker-toggle")).ToHaveTextAsync("Captioned");
        await Expect(alice.Locator(".speaker-toggle")).ToBeEnabledAsync();
        Assert.DoesNotContain("speaker Alice False", server.Surface.CallsSnapshot());
    }

    private static JsonObject Speaker(string name, bool label, string? colour, string input) => new()
    {
        ["name"] = name,
        ["label"] = label,
        ["colour"] = colour,
        ["language"] = "en",
        ["input"] = input,
        ["captioned"] = true,
        ["inputState"] = "receiving",
        ["inputDetail"] = null,
        ["levelDbfs"] = -10.0,
        ["rmsDbfs"] = -15.0,
        ["speech"] = false,
        ["mutedInObs"] = null,
    };
}
