using System.Net;
using System.Text;
using System.Text.Json;
using CaptionSidecar.Overlay.Tests.Fakes;
using Microsoft.AspNetCore.Server.Kestrel.Transport.Sockets;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace CaptionSidecar.Overlay.Tests;

public sealed class ControlApiTests
{
    [Fact(Timeout = 30000)]
    public async Task GetStatus_ReturnsHostStatusAsCamelCaseJson()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var server = await OverlayTestServer.StartAsync(ct);
        using var client = server.CreateClient();

        using var json = JsonDocument.Parse(await client.GetStringAsync("/api/status", ct));

        var root = json.RootElement;
        Assert.Equal("test-pattern", root.GetProperty("engine").GetString());
        Assert.Equal(3725, root.GetProperty("uptimeSeconds").GetDouble());
        Assert.Equal("reconnecting", root.GetProperty("tracks")[1].GetProperty("sessionState").GetString());
        Assert.Equal(-18.5, root.GetProperty("audioLevelDbfs").GetDouble());
        Assert.Equal(-24.5, root.GetProperty("audioRmsDbfs").GetDouble());
        Assert.True(root.GetProperty("speech").GetBoolean());
        Assert.Equal(90, root.GetProperty("rateLimits")[0].GetProperty("remaining").GetInt64());
    }

    [Fact(Timeout = 30000)]
    public async Task PutLanguage_WithToken_ChangesLanguagesList()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var server = await OverlayTestServer.StartAsync(ct);
        using var client = server.CreateClient(withToken: true);

        using var put = await client.PutAsync("/api/languages/es", Json("{\"enabled\":true}"), ct);
        using var list = JsonDocument.Parse(await client.GetStringAsync("/api/languages", ct));

        Assert.Equal(HttpStatusCode.OK, put.StatusCode);
        var es = list.RootElement.EnumerateArray().Single(l => l.GetProperty("code").GetString() == "es");
        Assert.True(es.GetProperty("enabled").GetBoolean());
        Assert.Equal("Spanish", es.GetProperty("name").GetString());
    }

    [Theory(Timeout = 30000)]
    [InlineData("{}")]
    [InlineData("{\"enabled\":\"yes\"}")]
    [InlineData("not json")]
    public async Task PutLanguage_BadBody_Is400NamingTheExpectedBody(string body)
    {
        var ct = TestContext.Current.CancellationToken;
        await using var server = await OverlayTestServer.StartAsync(ct);
        using var client = server.CreateClient(withToken: true);

        using var response = await client.PutAsync("/api/languages/es", Json(body), ct);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("{\"enabled\": true}", await ErrorOf(response, ct), StringComparison.Ordinal);
        Assert.Empty(server.Surface.CallsSnapshot());
    }

    [Fact(Timeout = 30000)]
    public async Task PutLanguage_UnknownCode_Is404()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var server = await OverlayTestServer.StartAsync(ct);
        using var client = server.CreateClient(withToken: true);

        using var response = await client.PutAsync("/api/languages/xx", Json("{\"enabled\":true}"), ct);

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Contains("Unknown language 'xx'", await ErrorOf(response, ct), StringComparison.Ordinal);
    }

    [Fact(Timeout = 30000)]
    public async Task Overlay_IsServedFromEmbeddedAssetsWithRestrictivePolicy()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var server = await OverlayTestServer.StartAsync(ct);
        using var client = server.CreateClient();

        using var page = await client.GetAsync("/overlay", ct);
        var html = await page.Content.ReadAsStringAsync(ct);

        Assert.Equal("text/html", page.Content.Headers.ContentType?.MediaType);
        Assert.Contains("/overlay.js", html, StringComparison.Ordinal);
        Assert.DoesNotContain("https://", html, StringComparison.Ordinal);
        Assert.Contains("default-src 'none'", page.Headers.GetValues("Content-Security-Policy").Single(), StringComparison.Ordinal);
    }

    [Fact]
    public void AddCaptionOverlay_LeavesKestrelsTransportOptionsToTheHost()
    {
        var services = new ServiceCollection();

        services.AddCaptionOverlay(o => o.TokenFolder = Path.GetTempPath());
        using var provider = services.BuildServiceProvider();

        // A library flips no host-wide switch: inline scheduling is the host's choice (the Sidecar makes it).
        Assert.False(provider.GetRequiredService<IOptions<SocketTransportOptions>>().Value.UnsafePreferInlineScheduling);
        Assert.Same(TimeProvider.System, provider.GetRequiredService<TimeProvider>());
    }

    [Fact]
    public async Task AddCaptionOverlay_WarmsTheFeedsSerialiserAtStartAndPublishesNothing()
    {
        var ct = TestContext.Current.CancellationToken;
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddCaptionOverlay(o => o.TokenFolder = Path.GetTempPath());
        await using var provider = services.BuildServiceProvider();

        var warmUp = Assert.Single(provider.GetServices<IHostedService>().OfType<BackgroundService>());
        await warmUp.StartAsync(ct);
        await warmUp.ExecuteTask!.WaitAsync(TimeSpan.FromSeconds(30), ct);

        Assert.True(warmUp.ExecuteTask.IsCompletedSuccessfully);
        var feed = provider.GetRequiredService<CaptionFeed>();
        Assert.Equal(0, feed.PublishedCount);
        Assert.Empty(feed.CurrentState());
    }

    private static async Task<string> ErrorOf(HttpResponseMessage response, CancellationToken ct)
    {
        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync(ct));
        return json.RootElement.GetProperty("error").GetString()!;
    }

    private static StringContent Json(string body) => new(body, Encoding.UTF8, "application/json");
}
