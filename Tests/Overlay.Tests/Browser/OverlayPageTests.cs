using CaptionSidecar.Tests.Support.Browser;
using CaptionSidecar.Tests.Support;
using CaptionSidecar.Overlay.Tests.Fakes;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace CaptionSidecar.Overlay.Tests.Browser;

[Collection(ChromiumCollection.Name)]
[Trait("Category", "Integration")]
public sealed class OverlayPageTests(ChromiumFixture chromium)
{
    // Records every change of each line's final and tentative text, so the test sees the order the viewer saw.
    private const string RecordChanges = """
        () => {
          window.__changes = [];
          const block = document.querySelector('.lang[data-lang="en"]');
          const record = () => {
            const line = block.querySelector('.line');
            if (!line) { return; }
            const entry = line.children[0].textContent + '|' + line.children[1].textContent;
            if (window.__changes[window.__changes.length - 1] !== entry) { window.__changes.push(entry); }
          };
          new MutationObserver(record).observe(block, { subtree: true, childList: true, characterData: true });
          window.__finalNode = block.querySelector('.final').firstChild;
          record();
        }
        """;

    [Fact(Timeout = 30000)]
    public async Task Overlay_PublishedCaptions_ShowInOrderTentativeThenFinal()
    {
        var ct = TestContext.Current.CancellationToken;
        var browser = chromium.RequireBrowser();
        await using var server = await OverlayTestServer.StartAsync(ct);
        await using var pages = new BrowserPages(browser);
        var page = await pages.OpenAsync($"{server.BaseAddress}overlay?lang=en");
        await Expect(page.Locator("body[data-connected=true]")).ToBeVisibleAsync();
        var final = page.Locator(".lang[data-lang=en] .line .final");
        var tentative = page.Locator(".lang[data-lang=en] .line .tentative");

        server.Feed.Publish(OverlayTestServer.Caption("en", 1, ("", "Hello")));
        await Expect(tentative).ToHaveTextAsync("Hello");
        await page.EvaluateAsync(RecordChanges);

        var steps = new (string Final, string Tentative)[]
        {
            ("", "Hello wor"),
            ("Hello world.", ""),
            ("Hello world.", " How are"),
            ("Hello world. How are you?", ""),
        };
        for (var i = 0; i < steps.Length; i++)
        {
            server.Feed.Publish(OverlayTestServer.Caption("en", i + 2, steps[i]));
            await Expect(final).ToHaveTextAsync(steps[i].Final);
            await Expect(tentative).ToHaveTextAsync(steps[i].Tentative);
        }

        var changes = await page.EvaluateAsync<string[]>("() => window.__changes");
        Assert.Equal(["|Hello", .. steps.Select(s => s.Final + "|" + s.Tentative)], changes);
        // The final span's text node was updated in place, never replaced (no flicker).
        Assert.True(await page.EvaluateAsync<bool>("() => document.querySelector('.lang[data-lang=\"en\"] .final').firstChild === window.__finalNode"));
        Assert.Empty(pages.UnexpectedErrors());
    }

    [Fact(Timeout = 30000)]
    public async Task Overlay_StaleOrOtherLanguageUpdates_AreIgnoredAndLanguagesStackInQueryOrder()
    {
        var ct = TestContext.Current.CancellationToken;
        var browser = chromium.RequireBrowser();
        await using var server = await OverlayTestServer.StartAsync(ct);
        await using var pages = new BrowserPages(browser);
        var page = await pages.OpenAsync($"{server.BaseAddress}overlay?lang=en,es&lines=2");
        await Expect(page.Locator("body[data-connected=true]")).ToBeVisibleAsync();

        server.Feed.Publish(OverlayTestServer.Caption("fr", 1, ("Bonjour", "")));
        server.Feed.Publish(OverlayTestServer.Caption("es", 1, ("Hola", "")));
        server.Feed.Publish(OverlayTestServer.Caption("en", 5, ("one", ""), ("two", ""), ("three", "")));
        await Expect(page.Locator(".lang[data-lang=en] .line")).ToHaveCountAsync(2);

        Assert.Equal(["en", "es"], await page.Locator(".lang").EvaluateAllAsync<string[]>("els => els.map(e => e.dataset.lang)"));
        Assert.Equal(["two", "three"], await page.Locator(".lang[data-lang=en] .final").AllTextContentsAsync());
        await Expect(page.Locator(".lang[data-lang=fr]")).ToHaveCountAsync(0);
    }

    private static OverlayCaption Labelled(long sequence, params OverlayCaptionLine[] lines) =>
        new("en", sequence, lines, false, DateTimeOffset.UnixEpoch);

    [Fact(Timeout = 30000)]
    public async Task Overlay_TwoSpeakers_NameInTheSpeakerColourBeforeEachBlockAndLinesStackedInOrder()
    {
        var ct = TestContext.Current.CancellationToken;
        var browser = chromium.RequireBrowser();
        await using var server = await OverlayTestServer.StartAsync(ct);
        await using var pages = new BrowserPages(browser);
        var page = await pages.OpenAsync($"{server.BaseAddress}overlay?lang=en&lines=4");
        await Expect(page.Locator("body[data-connected=true]")).ToBeVisibleAsync();

        server.Feed.Publish(Labelled(1,
            new("Hello there,", "", "Alice", "#ff8800"),
            new("how are you?", "", "Alice", "#ff8800"),
            new("", "Fine, and", "Bob", "#00AAFF")));
        await Expect(page.Locator(".lang[data-lang=en] .line")).ToHaveCountAsync(3);

        var lines = await page.Locator(".lang[data-lang=en] .line").EvaluateAllAsync<string[][]>("""
            els => els.map(l => {
              const speaker = l.querySelector('.speaker');
              return [speaker ? speaker.textContent : '', speaker ? getComputedStyle(speaker).color : '',
                l.querySelector('.final').textContent + l.querySelector('.tentative').textContent];
            })
            """);
        Assert.Equal(
            [["Alice", "rgb(255, 136, 0)", "Hello there,"], ["", "", "how are you?"], ["Bob", "rgb(0, 170, 255)", "Fine, and"]],
            lines);
        // The name comes before the line's text, and reads as "Alice: ...".
        Assert.Equal("Alice: Hello there,", await page.Locator(".line").First.EvaluateAsync<string>(
            "l => getComputedStyle(l.querySelector('.speaker'), '::after').content === '\":\"' ? l.querySelector('.speaker').textContent + ': ' + l.querySelector('.final').textContent : 'no colon'"));
        Assert.True(await page.Locator(".line").First.EvaluateAsync<bool>(
            "l => l.querySelector('.speaker').getBoundingClientRect().right <= l.querySelector('.final').getBoundingClientRect().left + 1"));

        // Alice's block scrolls out: Bob's line is now the first, still named; lines without a label have none.
        server.Feed.Publish(Labelled(2,
            new("Fine, and you?", "", "Bob", "#00aaff"),
            new("Good.", "", "Alice", "#ff8800"),
            new("Nobody in particular.", "")));
        await Expect(page.Locator(".lang[data-lang=en] .final").Nth(2)).ToHaveTextAsync("Nobody in particular.");
        Assert.Equal(["Bob", "Alice"], await page.Locator(".lang[data-lang=en] .speaker").AllTextContentsAsync());
        Assert.Equal(0, await page.Locator(".lang[data-lang=en] .line").Nth(2).Locator(".speaker").CountAsync());
        Assert.Empty(pages.UnexpectedErrors());
    }

    [Fact(Timeout = 30000)]
    public async Task Overlay_HostileLabel_ShownAsTextAndAColourNotInHexFormIgnored()
    {
        var ct = TestContext.Current.CancellationToken;
        var browser = chromium.RequireBrowser();
        await using var server = await OverlayTestServer.StartAsync(ct);
        await using var pages = new BrowserPages(browser);
        var page = await pages.OpenAsync($"{server.BaseAddress}overlay?lang=en&color=00ff00");
        await Expect(page.Locator("body[data-connected=true]")).ToBeVisibleAsync();

        const string Name = "<img src=x onerror=\"window.__owned=1\">";
        server.Feed.Publish(Labelled(1, new OverlayCaptionLine("Hi.", "", Name, "red;background:url(/x)")));

        await Expect(page.Locator(".speaker")).ToHaveTextAsync(Name);
        Assert.Equal(0, await page.Locator(".lang img").CountAsync());
        Assert.Equal("rgb(0, 255, 0)", await page.Locator(".speaker").EvaluateAsync<string>("e => getComputedStyle(e).color"));
        Assert.Equal("rgba(0, 0, 0, 0)", await page.Locator(".speaker").EvaluateAsync<string>("e => getComputedStyle(e).backgroundColor"));
        Assert.False(await page.EvaluateAsync<bool>("() => window.__owned === 1"));
    }

    [Fact(Timeout = 30000)]
    public async Task Overlay_SpeakersZero_HidesNamesAndKeepsTheLines()
    {
        var ct = TestContext.Current.CancellationToken;
        var browser = chromium.RequireBrowser();
        await using var server = await OverlayTestServer.StartAsync(ct);
        await using var pages = new BrowserPages(browser);
        var page = await pages.OpenAsync($"{server.BaseAddress}overlay?lang=en&lines=3&speakers=0");
        await Expect(page.Locator("body[data-connected=true]")).ToBeVisibleAsync();

        server.Feed.Publish(Labelled(1, new("Hello.", "", "Alice", "#ff8800"), new("Hi.", "", "Bob", "#00aaff")));

        await Expect(page.Locator(".lang[data-lang=en] .final")).ToHaveTextAsync(["Hello.", "Hi."]);
        Assert.Equal(0, await page.Locator(".speaker").CountAsync());
        Assert.Equal(["Hello.", "Hi."], await page.Locator(".lang[data-lang=en] .line").AllTextContentsAsync());
        Assert.Empty(pages.UnexpectedErrors());
    }

    [Fact(Timeout = 30000)]
    public async Task Overlay_StyleParameters_ApplyToComputedStyle()
    {
        var ct = TestContext.Current.CancellationToken;
        var browser = chromium.RequireBrowser();
        await using var server = await OverlayTestServer.StartAsync(ct);
        await using var pages = new BrowserPages(browser);
        var page = await pages.OpenAsync(
            $"{server.BaseAddress}overlay?lang=en&size=48&color=ff0000&align=left&font=monospace&position=top&bg=000080&opacity=0.5&outline=2");
        server.Feed.Publish(OverlayTestServer.Caption("en", 1, ("Styled", "tail")));
        await Expect(page.Locator(".final")).ToHaveTextAsync("Styled");

        var style = await page.EvaluateAsync<Dictionary<string, string>>("""
            () => {
              const line = getComputedStyle(document.querySelector('.line'));
              const tentative = getComputedStyle(document.querySelector('.tentative'));
              const box = getComputedStyle(document.querySelector('.lang'));
              return {
                fontSize: line.fontSize, color: line.color, textAlign: line.textAlign, fontFamily: line.fontFamily,
                stroke: line.webkitTextStrokeWidth, boxBackground: box.backgroundColor,
                pageBackground: getComputedStyle(document.body).backgroundColor,
                tentativeOpacity: tentative.opacity, tentativeStyle: tentative.fontStyle,
                top: String(Math.round(document.querySelector('.lang').getBoundingClientRect().top)),
              };
            }
            """);

        Assert.Equal("48px", style["fontSize"]);
        Assert.Equal("rgb(255, 0, 0)", style["color"]);
        Assert.Equal("left", style["textAlign"]);
        Assert.Equal("monospace", style["fontFamily"]);
        Assert.Equal("2px", style["stroke"]);
        Assert.Equal("rgba(0, 0, 128, 0.5)", style["boxBackground"]);
        Assert.Equal("rgba(0, 0, 0, 0)", style["pageBackground"]);
        Assert.NotEqual("1", style["tentativeOpacity"]);
        Assert.Equal("italic", style["tentativeStyle"]);
        Assert.True(int.Parse(style["top"], System.Globalization.CultureInfo.InvariantCulture) < 100, $"position=top put the box at {style["top"]}px");
        Assert.Empty(pages.UnexpectedErrors());
    }

    [Fact(Timeout = 30000)]
    public async Task Overlay_Fade_HidesCaptionsAfterSilenceAndShowsThemOnNextUpdate()
    {
        var ct = TestContext.Current.CancellationToken;
        var browser = chromium.RequireBrowser();
        await using var server = await OverlayTestServer.StartAsync(ct);
        await using var pages = new BrowserPages(browser);
        var page = await pages.OpenAsync($"{server.BaseAddress}overlay?lang=en&fade=0.2");
        await Expect(page.Locator("body[data-connected=true]")).ToBeVisibleAsync();

        await page.EvaluateAsync("""
            () => {
              window.__fades = [];
              const captions = document.getElementById('captions');
              new MutationObserver(() => {
                const state = captions.classList.contains('faded') ? 'faded' : 'shown';
                if (window.__fades[window.__fades.length - 1] !== state) { window.__fades.push(state); }
              }).observe(captions, { attributes: true, attributeFilter: ['class'] });
            }
            """);

        server.Feed.Publish(OverlayTestServer.Caption("en", 1, ("Fading", "")));
        await page.WaitForFunctionAsync("() => window.__fades.includes('faded')");
        server.Feed.Publish(OverlayTestServer.Caption("en", 2, ("Back", "")));
        await page.WaitForFunctionAsync("() => window.__fades.length >= 4");

        await Expect(page.Locator(".final")).ToHaveTextAsync("Back");
        Assert.Equal(["shown", "faded", "shown", "faded"], (await page.EvaluateAsync<string[]>("() => window.__fades"))[..4]);
    }

    [Fact(Timeout = 30000)]
    public async Task Overlay_ServerRestartsOnSamePort_ReconnectsAndShowsNewCaptions()
    {
        var ct = TestContext.Current.CancellationToken;
        var browser = chromium.RequireBrowser();
        var tokenFolder = Path.Combine(Path.GetTempPath(), "overlay-restart-" + Guid.NewGuid().ToString("N"));
        try
        {
            var first = await OverlayTestServer.StartAsync(ct, tokenFolder: tokenFolder);
            await using var pages = new BrowserPages(browser);
            var page = await pages.OpenAsync($"{first.BaseAddress}overlay?lang=en");
            first.Feed.Publish(OverlayTestServer.Caption("en", 40, ("Before restart", "")));
            await Expect(page.Locator(".final")).ToHaveTextAsync("Before restart");

            await first.StopAsync();
            await first.DisposeAsync();
            await Expect(page.Locator("body[data-connected=false]")).ToBeVisibleAsync();
            await using var second = await OverlayTestServer.StartAsync(ct, port: first.Port, tokenFolder: tokenFolder);
            // The new server numbers from 1 again; the page must accept it after reconnecting.
            second.Feed.Publish(OverlayTestServer.Caption("en", 1, ("After restart", "")));

            await Expect(page.Locator(".final")).ToHaveTextAsync("After restart");
            await Expect(page.Locator("body[data-connected=true]")).ToBeVisibleAsync();
        }
        finally
        {
            if (Directory.Exists(tokenFolder))
            {
                Directory.Delete(tokenFolder, recursive: true);
            }
        }
    }

    [Fact(Timeout = 30000)]
    public async Task Overlay_Screenshot_IsSavedAsPngArtifact()
    {
        var ct = TestContext.Current.CancellationToken;
        var browser = chromium.RequireBrowser();
        await using var server = await OverlayTestServer.StartAsync(ct);
        await using var pages = new BrowserPages(browser);
        var page = await pages.OpenAsync($"{server.BaseAddress}overlay?lang=en,es&size=40&bg=000000&opacity=0.6&outline=1", 1280, 360);
        server.Feed.Publish(OverlayTestServer.Caption("en", 1, ("Welcome back to the stream!", ""), ("Today we are building a caption", " overlay")));
        server.Feed.Publish(OverlayTestServer.Caption("es", 1, ("¡Bienvenidos de nuevo al directo!", ""), ("Hoy construimos una", " superposición")));
        await Expect(page.Locator(".lang[data-lang=es] .tentative").Nth(1)).ToHaveTextAsync(" superposición");

        var path = Path.Combine(TestHost.RepoRoot, "artifacts", "overlay", "overlay.png");
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = path, OmitBackground = true });

        var bytes = await File.ReadAllBytesAsync(path, ct);
        Assert.True(bytes.Length > 1000, $"screenshot is only {bytes.Length} bytes");
        Assert.Equal(new byte[] { 0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A }, bytes[..8]);
    }
}
