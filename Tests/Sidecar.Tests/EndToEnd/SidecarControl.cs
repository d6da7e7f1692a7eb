using System.Globalization;
using System.Net.Http.Headers;
using System.Net.WebSockets;
using System.Text;
using System.Text.RegularExpressions;

namespace CaptionSidecar.Tests.EndToEnd;

/// <summary>
/// The control side of a running sidecar process, as a moderator's tool sees it: the HTTP API with the token the
/// sidecar printed at start, and the overlay's live feed.
/// </summary>
internal sealed partial class SidecarControl : IDisposable
{
    private SidecarControl(int port, string token)
    {
        Port = port;
        Token = token;
        Http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}") };
    }

    /// <summary>The port the sidecar's server listens on (the tests start it with <c>--http-port 0</c>).</summary>
    public int Port { get; }

    /// <summary>The control token from the printed control URL.</summary>
    public string Token { get; }

    /// <summary>A client for the API (no token attached).</summary>
    public HttpClient Http { get; }

    /// <summary>Waits for the control URL on the sidecar's stderr and reads its port and token.</summary>
    public static async Task<SidecarControl> ConnectAsync(SidecarProcess sidecar)
    {
        ArgumentNullException.ThrowIfNull(sidecar);
        await sidecar.WaitForStderrAsync("Control page", 1, TimeSpan.FromSeconds(30));
        var control = ControlUrl().Match(sidecar.Stderr);
        Assert.True(control.Success, sidecar.Stderr);
        return new SidecarControl(int.Parse(control.Groups["port"].Value, CultureInfo.InvariantCulture), control.Groups["token"].Value);
    }

    /// <summary><c>PUT /api/languages/{code}</c> with the token.</summary>
    public async Task<HttpResponseMessage> SetLanguageAsync(string code, bool enabled, CancellationToken ct)
    {
        using var put = new HttpRequestMessage(HttpMethod.Put, $"/api/languages/{code}")
        {
            Content = new StringContent(enabled ? "{\"enabled\":true}" : "{\"enabled\":false}", Encoding.UTF8, "application/json"),
        };
        put.Headers.Authorization = new AuthenticationHeaderValue("Bearer", Token);
        return await Http.SendAsync(put, ct);
    }

    /// <summary><c>PUT /api/speakers/{name}</c> with the token: captions or mutes a speaker.</summary>
    public async Task<HttpResponseMessage> SetSpeakerCaptionedAsync(string name, bool captioned, CancellationToken ct)
    {
        using var put = new HttpRequestMessage(HttpMethod.Put, $"/api/speakers/{Uri.EscapeDataString(name)}")
        {
            Content = new StringContent(captioned ? "{\"captioned\":true}" : "{\"captioned\":false}", Encoding.UTF8, "application/json"),
        };
        put.Headers.Authorization = new AuthenticationHeaderValue("Bearer", Token);
        return await Http.SendAsync(put, ct);
    }

    /// <summary>Opens the overlay feed of <paramref name="language"/>.</summary>
    public async Task<ClientWebSocket> OpenFeedAsync(string language, CancellationToken ct)
    {
        var socket = new ClientWebSocket();
        await socket.ConnectAsync(new Uri($"ws://127.0.0.1:{Port}/ws/captions?lang={language}"), ct);
        return socket;
    }

    /// <summary>The next whole message of a caption feed as text, or null when the feed closed.</summary>
    public static async Task<string?> ReceiveTextAsync(ClientWebSocket socket, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(socket);
        var buffer = new byte[64 * 1024];
        using var message = new MemoryStream();
        WebSocketReceiveResult result;
        do
        {
            result = await socket.ReceiveAsync(buffer, ct);
            if (result.MessageType == WebSocketMessageType.Close)
            {
                return null;
            }

            message.Write(buffer, 0, result.Count);
        }
        while (!result.EndOfMessage);

        return Encoding.UTF8.GetString(message.GetBuffer(), 0, (int)message.Length);
    }

    public void Dispose() => Http.Dispose();

    /// <summary>The control URL the sidecar prints on stderr at start.</summary>
    [GeneratedRegex(@"http://localhost:(?<port>\d+)/control\?token=(?<token>[A-Za-z0-9_-]+)")]
    internal static partial Regex ControlUrl();
}
