using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using CaptionSidecar.Overlay.Tests.Fakes;
using CaptionSidecar.Tests.Support;
using CaptionSidecar.Tests.Support.Browser;
using static Microsoft.Playwright.Assertions;

namespace CaptionSidecar.Overlay.Tests.Browser;

/// <summary>The control page's YouTube section and <c>PUT /api/outputs/{name}</c> (the host owns the settings' schema).</summary>
[Collection(ChromiumCollection.Name)]
[Trait("Category", "Integration")]
public sealed class ControlPageYouTubeTests(ChromiumFixture chromium)
{
    [Fact(Timeout = 30000)]
    public async Task ControlPage_YouTube_ShowsTheStateAndSavesUrlLanguageAndOffset_NeverShowingTheUrl()
    {
        var ct = TestContext.Current.CancellationToken;
        var browser = chromium.RequireBrowser();
        await using var server = await OverlayTestServer.StartAsync(ct);
        server.Surface.UpdateStatus(s => s["youTube"] = JsonNode.Parse("""
            { "on": true, "state": "idle", "host": "upload.youtube.com", "language": "en", "offsetSeconds": 0, "nextSeq": 8,
              "postsSent": 7, "linesSent": 9, "linesDropped": 1, "errors": 2, "lastAnswerAt": null, "lastAnswer": "200", "problem": null, "pending": 0 }
            """));
        await using var pages = new BrowserPages(browser);
        var page = await pages.OpenAsync($"{server.BaseAddress}control?token={server.Token.Value}", 300, 900);

        await Expect(page.Locator("#youtube-section")).ToBeVisibleAsync();
        await Expect(page.Locator("#youtube-state")).ToHaveTextAsync("idle · en to upload.youtube.com · 9 lines in 7 posts, 1 dropped, 2 errors · last answer 200");
        await Expect(page.Locator("#youtube-enabled")).ToBeCheckedAsync();

        // A moderator pastes a new URL (a password field: never echoed), picks Spanish and a 2.5 s offset.
        const string Url = "https://upload.youtube.com/closedcaption?cid=abcd-efgh-ijkl-mnop";
        await page.Locator("#youtube-url").FillAsync(Url);
        await Expect(page.Locator("#youtube-url")).ToHaveAttributeAsync("type", "password");
        await page.Locator("#youtube-language").SelectOptionAsync("es");
        await page.Locator("#youtube-offset").FillAsync("2.5");
        await page.Locator("#youtube-save").ClickAsync();

        await Poll.UntilAsync(() => server.Surface.CallsSnapshot().Any(c => c.StartsWith("output youtube", StringComparison.Ordinal)), "the host got the settings", ct);
        var call = server.Surface.CallsSnapshot().Single(c => c.StartsWith("output youtube", StringComparison.Ordinal));
        Assert.Contains("\"url\":\"" + Url + "\"", call, StringComparison.Ordinal);
        Assert.Contains("\"language\":\"es\"", call, StringComparison.Ordinal);
        Assert.Contains("\"offsetSeconds\":2.5", call, StringComparison.Ordinal);
        Assert.Contains("\"enabled\":true", call, StringComparison.Ordinal);
        await Expect(page.Locator("#youtube-url")).ToHaveValueAsync(string.Empty);
        await Expect(page.Locator("#youtube-language")).ToHaveValueAsync("es");
        Assert.DoesNotContain("abcd-efgh", await page.ContentAsync(), StringComparison.Ordinal);

        // Refused: the reason in words, where a moderator looks.
        server.Surface.UpdateStatus(s =>
        {
            s["youTube"]!["state"] = "refused";
            s["youTube"]!["problem"] = "YouTube refused the captions: 403 The live stream is not active; check the ingestion URL";
        });
        await Expect(page.Locator("#youtube-state")).ToHaveTextAsync("YouTube refused the captions: 403 The live stream is not active; check the ingestion URL");
        await Expect(page.Locator("#youtube-section")).ToHaveAttributeAsync("data-state", "refused");
        Assert.True(await page.EvaluateAsync<int>("() => document.documentElement.scrollWidth") <= 300, "the YouTube section made the page wider than a 300 px dock");
        Assert.Empty(pages.UnexpectedErrors());
    }

    [Fact(Timeout = 30000)]
    public async Task ControlPage_YouTube_InvalidUrl_ShowsTheHostsReason()
    {
        var ct = TestContext.Current.CancellationToken;
        var browser = chromium.RequireBrowser();
        await using var server = await OverlayTestServer.StartAsync(ct);
        server.Surface.UpdateStatus(s => s["youTube"] = JsonNode.Parse("""{ "on": false, "state": "off", "host": null, "language": "en", "offsetSeconds": 0 }"""));
        await using var pages = new BrowserPages(browser);
        var page = await pages.OpenAsync($"{server.BaseAddress}control?token={server.Token.Value}", 300, 900);
        await Expect(page.Locator("#youtube-state")).ToHaveTextAsync("off: no ingestion URL set");

        await page.Locator("#youtube-url").FillAsync("rtmp://a.rtmp.youtube.com/live2");
        await page.Locator("#youtube-save").ClickAsync();

        await Expect(page.Locator("#message")).ToHaveTextAsync("The ingestion URL must be the http:// or https:// address YouTube Studio shows.");
    }
}

/// <summary><c>PUT /api/outputs/{name}</c> without a browser.</summary>
public sealed class OutputSettingsApiTests
{
    [Theory]
    [InlineData("youtube", "{\"enabled\":false}", HttpStatusCode.OK, "\"on\":false")]
    [InlineData("youtube", "{\"url\":\"ftp://x\"}", HttpStatusCode.BadRequest, "http:// or https://")]
    [InlineData("youtube", "[1,2]", HttpStatusCode.BadRequest, "Send a JSON object")]
    [InlineData("youtube", "not json", HttpStatusCode.BadRequest, "Send a JSON object")]
    [InlineData("twitch", "{\"enabled\":true}", HttpStatusCode.NotFound, "Unknown output")]
    public async Task Put_AnswersWithTheHostsStateOrSaysWhatIsWrong(string name, string body, HttpStatusCode status, string expected)
    {
        var ct = TestContext.Current.CancellationToken;
        await using var server = await OverlayTestServer.StartAsync(ct);
        using var client = server.CreateClient();
        using var put = new HttpRequestMessage(HttpMethod.Put, $"/api/outputs/{name}") { Content = new StringContent(body, Encoding.UTF8, "application/json") };
        put.Headers.Authorization = new AuthenticationHeaderValue("Bearer", server.Token.Value);

        using var answer = await client.SendAsync(put, ct);

        Assert.Equal(status, answer.StatusCode);
        Assert.Contains(expected, await answer.Content.ReadAsStringAsync(ct), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Put_WithoutTheToken_Is401()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var server = await OverlayTestServer.StartAsync(ct);
        using var client = server.CreateClient();

        using var answer = await client.PutAsync("/api/outputs/youtube", new StringContent("{\"enabled\":true}", Encoding.UTF8, "application/json"), ct);

        Assert.Equal(HttpStatusCode.Unauthorized, answer.StatusCode);
        Assert.DoesNotContain(server.Surface.CallsSnapshot(), c => c.StartsWith("output", StringComparison.Ordinal));
    }
}
