using System.Net;
using System.Net.WebSockets;
using System.Text;
using CaptionSidecar.Overlay.Tests.Fakes;

namespace CaptionSidecar.Overlay.Tests;

public sealed class SecurityTests
{
    [Theory(Timeout = 30000)]
    [InlineData("evil.example")]
    [InlineData("evil.example:4470")]
    [InlineData("192.168.1.20")]
    public async Task AnyRequest_ForeignHost_IsRefused(string host)
    {
        var ct = TestContext.Current.CancellationToken;
        await using var server = await OverlayTestServer.StartAsync(ct);
        using var client = server.CreateClient();
        foreach (var path in new[] { "/overlay", "/api/status", "/healthz" })
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, path);
            request.Headers.Host = host;

            using var response = await client.SendAsync(request, ct);

            Assert.Equal(HttpStatusCode.MisdirectedRequest, response.StatusCode);
        }
    }

    [Theory(Timeout = 30000)]
    [InlineData("localhost")]
    [InlineData("127.0.0.1")]
    [InlineData("[::1]")]
    [InlineData("LOCALHOST:4470")]
    public async Task AnyRequest_LoopbackHost_IsServed(string host)
    {
        var ct = TestContext.Current.CancellationToken;
        await using var server = await OverlayTestServer.StartAsync(ct);
        using var client = server.CreateClient();
        using var request = new HttpRequestMessage(HttpMethod.Get, "/healthz");
        request.Headers.Host = host;

        using var response = await client.SendAsync(request, ct);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("ok", await response.Content.ReadAsStringAsync(ct));
    }

    [Fact(Timeout = 30000)]
    public async Task CaptionSocket_ForeignOrigin_IsRefused403()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var server = await OverlayTestServer.StartAsync(ct);
        using var socket = new ClientWebSocket();
        socket.Options.CollectHttpResponseDetails = true;
        socket.Options.SetRequestHeader("Origin", "http://evil.example");

        await Assert.ThrowsAsync<WebSocketException>(() =>
            socket.ConnectAsync(new Uri($"ws://127.0.0.1:{server.Port}/ws/captions"), ct));

        Assert.Equal(HttpStatusCode.Forbidden, socket.HttpStatusCode);
    }

    [Theory(Timeout = 30000)]
    [InlineData(null)]
    [InlineData("same")]
    public async Task CaptionSocket_NoOriginOrSameOrigin_IsAccepted(string? origin)
    {
        var ct = TestContext.Current.CancellationToken;
        await using var server = await OverlayTestServer.StartAsync(ct);

        using var socket = await server.ConnectAsync(ct, origin: origin is null ? null : $"http://127.0.0.1:{server.Port}");

        Assert.Equal(WebSocketState.Open, socket.State);
    }

    [Theory(Timeout = 30000)]
    [InlineData("POST", "/api/captions/clear")]
    [InlineData("POST", "/api/captions/test")]
    [InlineData("PUT", "/api/languages/es")]
    public async Task StateChange_WithoutToken_Is401AndHostNotCalled(string method, string path)
    {
        var ct = TestContext.Current.CancellationToken;
        await using var server = await OverlayTestServer.StartAsync(ct);
        using var client = server.CreateClient();

        using var response = await client.SendAsync(Request(method, path), ct);

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Contains("control token", await response.Content.ReadAsStringAsync(ct), StringComparison.Ordinal);
        Assert.Empty(server.Surface.CallsSnapshot());
    }

    [Fact(Timeout = 30000)]
    public async Task StateChange_WrongToken_Is401()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var server = await OverlayTestServer.StartAsync(ct);
        using var client = server.CreateClient();
        client.DefaultRequestHeaders.Authorization = new("Bearer", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA");

        using var response = await client.PostAsync("/api/captions/clear", null, ct);

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Empty(server.Surface.CallsSnapshot());
    }

    [Theory(Timeout = 30000)]
    [InlineData("POST", "/api/captions/clear", "clear")]
    [InlineData("POST", "/api/captions/test", "test")]
    [InlineData("PUT", "/api/languages/es", "set es True")]
    public async Task StateChange_WithBearerToken_SucceedsAndCallsHost(string method, string path, string expectedCall)
    {
        var ct = TestContext.Current.CancellationToken;
        await using var server = await OverlayTestServer.StartAsync(ct);
        using var client = server.CreateClient(withToken: true);

        using var response = await client.SendAsync(Request(method, path), ct);

        Assert.True(response.IsSuccessStatusCode, $"{method} {path} answered {response.StatusCode}");
        Assert.Equal([expectedCall], server.Surface.CallsSnapshot());
    }

    [Fact(Timeout = 30000)]
    public async Task StateChange_ForeignOriginEvenWithToken_Is403()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var server = await OverlayTestServer.StartAsync(ct);
        using var client = server.CreateClient(withToken: true);
        using var request = Request("POST", "/api/captions/clear");
        request.Headers.Add("Origin", "http://evil.example");

        using var response = await client.SendAsync(request, ct);

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        Assert.Empty(server.Surface.CallsSnapshot());
    }

    [Fact(Timeout = 30000)]
    public async Task ControlLogin_ValidToken_SetsStrictHttpOnlyCookieAndRedirectsWithoutToken()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var server = await OverlayTestServer.StartAsync(ct);
        using var client = server.CreateClient();

        using var login = await client.GetAsync($"/control?token={server.Token.Value}", ct);

        Assert.Equal(HttpStatusCode.Redirect, login.StatusCode);
        Assert.Equal("/control", login.Headers.Location?.OriginalString);
        var cookie = Assert.Single(login.Headers.GetValues("Set-Cookie"));
        Assert.StartsWith($"{OverlayEndpoints.TokenCookieName}={server.Token.Value};", cookie, StringComparison.Ordinal);
        Assert.Contains("httponly", cookie, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("samesite=strict", cookie, StringComparison.OrdinalIgnoreCase);

        using var withCookie = Request("POST", "/api/captions/test");
        withCookie.Headers.Add("Cookie", cookie.Split(';')[0]);
        withCookie.Headers.Add("Origin", $"http://127.0.0.1:{server.Port}");
        using var response = await client.SendAsync(withCookie, ct);

        Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);
        Assert.Equal(["test"], server.Surface.CallsSnapshot());
    }

    [Fact(Timeout = 30000)]
    public async Task ControlLogin_WrongToken_Is401WithoutCookie()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var server = await OverlayTestServer.StartAsync(ct);
        using var client = server.CreateClient();

        using var login = await client.GetAsync("/control?token=guess", ct);

        Assert.Equal(HttpStatusCode.Unauthorized, login.StatusCode);
        Assert.False(login.Headers.Contains("Set-Cookie"));
    }

    [Fact(Timeout = 30000)]
    public async Task ReadOnlyEndpoints_NeedNoToken()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var server = await OverlayTestServer.StartAsync(ct);
        using var client = server.CreateClient();

        foreach (var path in new[] { "/overlay", "/overlay.js", "/overlay.css", "/control", "/control.js", "/control.css", "/api/status", "/api/languages", "/api/speakers", "/healthz" })
        {
            using var response = await client.GetAsync(path, ct);
            Assert.True(response.StatusCode == HttpStatusCode.OK, $"GET {path} answered {response.StatusCode}");
            Assert.False(response.Headers.Contains("Access-Control-Allow-Origin"), $"GET {path} sent a CORS header");
        }
    }

    private static HttpRequestMessage Request(string method, string path)
    {
        var request = new HttpRequestMessage(new HttpMethod(method), path);
        if (method == "PUT")
        {
            request.Content = new StringContent("{\"enabled\": true}", Encoding.UTF8, "application/json");
        }

        return request;
    }
}
