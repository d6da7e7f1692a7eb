using System.Net;
using System.Text;
using System.Text.Json;
using CaptionSidecar.Overlay.Tests.Fakes;

namespace CaptionSidecar.Overlay.Tests;

/// <summary><c>GET /api/speakers</c> and <c>PUT /api/speakers/{name}</c>: the same protection as the language endpoints.</summary>
public sealed class SpeakerApiTests
{
    [Fact(Timeout = 30000)]
    public async Task GetSpeakers_NoToken_ReturnsTheHostsListAsIs()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var server = await OverlayTestServer.StartAsync(ct);
        using var client = server.CreateClient();

        using var response = await client.GetAsync("/api/speakers", ct);
        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync(ct));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal("no-store", response.Headers.CacheControl?.ToString());
        Assert.False(response.Headers.Contains("Access-Control-Allow-Origin"));
        var speakers = json.RootElement.EnumerateArray().ToList();
        Assert.Equal(["Alice", "Bob"], speakers.Select(s => s.GetProperty("name").GetString()));
        Assert.Equal("#FFB74D", speakers[1].GetProperty("colour").GetString());
        Assert.Equal("waiting-for-audio", speakers[1].GetProperty("inputState").GetString());
        Assert.Equal(-20.5, speakers[0].GetProperty("rmsDbfs").GetDouble());
        Assert.Empty(server.Surface.CallsSnapshot());
    }

    [Fact(Timeout = 30000)]
    public async Task GetSpeakers_HostWithoutSpeakers_IsAnEmptyArray()
    {
        var ct = TestContext.Current.CancellationToken;
        var surface = new FakeControlSurface();
        surface.UpdateStatus(s => s.Remove("speakers"));
        await using var server = await OverlayTestServer.StartAsync(ct, surface: surface);
        using var client = server.CreateClient();

        Assert.Equal("[]", await client.GetStringAsync("/api/speakers", ct));
    }

    [Fact]
    public async Task IControlSurface_HostThatDoesNotImplementSpeakers_HasNoneAndKnowsNoName()
    {
        IControlSurface host = new LanguagesOnlySurface();

        Assert.Equal(JsonValueKind.Array, host.GetSpeakers().ValueKind);
        Assert.Equal(0, host.GetSpeakers().GetArrayLength());
        Assert.Null(await host.SetSpeakerCaptionedAsync("Alice", false, TestContext.Current.CancellationToken));
    }

    [Theory(Timeout = 30000)]
    [InlineData(false)]
    [InlineData(true)]
    public async Task PutSpeaker_WithToken_Is200WithTheSpeakersNewState(bool captioned)
    {
        var ct = TestContext.Current.CancellationToken;
        await using var server = await OverlayTestServer.StartAsync(ct);
        using var client = server.CreateClient(withToken: true);

        using var response = await client.PutAsync("/api/speakers/Bob", Json(captioned ? "{\"captioned\":true}" : "{\"captioned\":false}"), ct);
        using var state = JsonDocument.Parse(await response.Content.ReadAsStringAsync(ct));
        using var list = JsonDocument.Parse(await client.GetStringAsync("/api/speakers", ct));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("no-store", response.Headers.CacheControl?.ToString());
        Assert.Equal("Bob", state.RootElement.GetProperty("name").GetString());
        Assert.Equal(captioned, state.RootElement.GetProperty("captioned").GetBoolean());
        Assert.Equal(captioned, list.RootElement[1].GetProperty("captioned").GetBoolean());
        Assert.True(list.RootElement[0].GetProperty("captioned").GetBoolean());
        Assert.Equal([$"speaker Bob {captioned}"], server.Surface.CallsSnapshot());
    }

    [Fact(Timeout = 30000)]
    public async Task PutSpeaker_NameWithSpaceAndOtherCase_ReachesTheHostDecoded()
    {
        var ct = TestContext.Current.CancellationToken;
        var surface = new FakeControlSurface();
        surface.UpdateStatus(s => s["speakers"]![0]!["name"] = "Dr. Ana María");
        await using var server = await OverlayTestServer.StartAsync(ct, surface: surface);
        using var client = server.CreateClient(withToken: true);

        using var response = await client.PutAsync("/api/speakers/" + Uri.EscapeDataString("dr. ana maría"), Json("{\"captioned\":false}"), ct);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(["speaker dr. ana maría False"], server.Surface.CallsSnapshot());
    }

    [Theory(Timeout = 30000)]
    [InlineData("{}")]
    [InlineData("{\"captioned\":\"no\"}")]
    [InlineData("{\"captioned\":null}")]
    [InlineData("{\"enabled\":false}")]
    [InlineData("[]")]
    [InlineData("not json")]
    [InlineData("")]
    public async Task PutSpeaker_BadBody_Is400NamingTheExpectedBody(string body)
    {
        var ct = TestContext.Current.CancellationToken;
        await using var server = await OverlayTestServer.StartAsync(ct);
        using var client = server.CreateClient(withToken: true);

        using var response = await client.PutAsync("/api/speakers/Bob", Json(body), ct);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("{\"captioned\": true}", await ErrorOf(response, ct), StringComparison.Ordinal);
        Assert.Empty(server.Surface.CallsSnapshot());
    }

    [Fact(Timeout = 30000)]
    public async Task PutSpeaker_UnknownName_Is404NamingIt()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var server = await OverlayTestServer.StartAsync(ct);
        using var client = server.CreateClient(withToken: true);

        using var response = await client.PutAsync("/api/speakers/Carol", Json("{\"captioned\":false}"), ct);

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Contains("Unknown speaker 'Carol'", await ErrorOf(response, ct), StringComparison.Ordinal);
        Assert.Contains("GET /api/speakers", await ErrorOf(response, ct), StringComparison.Ordinal);
    }

    [Fact(Timeout = 30000)]
    public async Task PutSpeaker_WithoutToken_Is401AndHostNotCalled()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var server = await OverlayTestServer.StartAsync(ct);
        using var client = server.CreateClient();

        using var response = await client.PutAsync("/api/speakers/Bob", Json("{\"captioned\":false}"), ct);

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal("Bearer", response.Headers.WwwAuthenticate.Single().Scheme);
        Assert.Contains("control token", await ErrorOf(response, ct), StringComparison.Ordinal);
        Assert.Empty(server.Surface.CallsSnapshot());
    }

    [Fact(Timeout = 30000)]
    public async Task PutSpeaker_WrongToken_Is401AndHostNotCalled()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var server = await OverlayTestServer.StartAsync(ct);
        using var client = server.CreateClient();
        client.DefaultRequestHeaders.Authorization = new("Bearer", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA");

        using var response = await client.PutAsync("/api/speakers/Bob", Json("{\"captioned\":false}"), ct);

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Empty(server.Surface.CallsSnapshot());
    }

    [Fact(Timeout = 30000)]
    public async Task PutSpeaker_ForeignOriginEvenWithToken_Is403AndHostNotCalled()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var server = await OverlayTestServer.StartAsync(ct);
        using var client = server.CreateClient(withToken: true);
        using var request = new HttpRequestMessage(HttpMethod.Put, "/api/speakers/Bob") { Content = Json("{\"captioned\":false}") };
        request.Headers.Add("Origin", "http://evil.example");

        using var response = await client.SendAsync(request, ct);

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        Assert.Empty(server.Surface.CallsSnapshot());
    }

    [Fact(Timeout = 30000)]
    public async Task PutSpeaker_LoginCookieAndSameOrigin_IsAccepted()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var server = await OverlayTestServer.StartAsync(ct);
        using var client = server.CreateClient();
        using var request = new HttpRequestMessage(HttpMethod.Put, "/api/speakers/Alice") { Content = Json("{\"captioned\":false}") };
        request.Headers.Add("Cookie", $"{OverlayEndpoints.TokenCookieName}={server.Token.Value}");
        request.Headers.Add("Origin", $"http://127.0.0.1:{server.Port}");

        using var response = await client.SendAsync(request, ct);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(["speaker Alice False"], server.Surface.CallsSnapshot());
    }

    [Theory(Timeout = 30000)]
    [InlineData("GET")]
    [InlineData("PUT")]
    public async Task Speakers_ForeignHost_Is421(string method)
    {
        var ct = TestContext.Current.CancellationToken;
        await using var server = await OverlayTestServer.StartAsync(ct);
        using var client = server.CreateClient(withToken: true);
        using var request = new HttpRequestMessage(new HttpMethod(method), method == "GET" ? "/api/speakers" : "/api/speakers/Bob");
        request.Headers.Host = "evil.example";
        if (method == "PUT")
        {
            request.Content = Json("{\"captioned\":false}");
        }

        using var response = await client.SendAsync(request, ct);

        Assert.Equal(HttpStatusCode.MisdirectedRequest, response.StatusCode);
        Assert.Empty(server.Surface.CallsSnapshot());
    }

    private static async Task<string> ErrorOf(HttpResponseMessage response, CancellationToken ct)
    {
        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync(ct));
        return json.RootElement.GetProperty("error").GetString()!;
    }

    private static StringContent Json(string body) => new(body, Encoding.UTF8, "application/json");

    /// <summary>A host written before speakers existed: it implements only the language members.</summary>
    private sealed class LanguagesOnlySurface : IControlSurface
    {
        public JsonElement GetStatus() => JsonElement.Parse("{}");

        public IReadOnlyList<LanguageState> GetLanguages() => [];

        public Task<bool> SetLanguageEnabledAsync(string code, bool enabled, CancellationToken cancellationToken) => Task.FromResult(false);

        public Task ClearCaptionsAsync(CancellationToken cancellationToken) => Task.CompletedTask;

        public Task ShowTestCaptionAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    }
}
