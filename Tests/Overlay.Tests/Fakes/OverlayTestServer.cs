using System.Net.Http.Headers;
using System.Net.WebSockets;
using System.Threading.Channels;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace CaptionSidecar.Overlay.Tests.Fakes;

/// <summary>The overlay library hosted in a real Kestrel on 127.0.0.1 with a fake control surface.</summary>
public sealed class OverlayTestServer : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly bool _ownsTokenFolder;
    private readonly Channel<string> _feedConnectionsEnded;

    private OverlayTestServer(WebApplication app, FakeControlSurface surface, string tokenFolder, bool ownsTokenFolder, int port, Channel<string> feedConnectionsEnded)
    {
        _app = app;
        _feedConnectionsEnded = feedConnectionsEnded;
        Surface = surface;
        TokenFolder = tokenFolder;
        _ownsTokenFolder = ownsTokenFolder;
        Port = port;
    }

    public FakeControlSurface Surface { get; }

    public string TokenFolder { get; }

    public int Port { get; }

    public Uri BaseAddress => new($"http://127.0.0.1:{Port}");

    public CaptionFeed Feed => _app.Services.GetRequiredService<CaptionFeed>();

    public ControlToken Token => _app.Services.GetRequiredService<ControlToken>();

    /// <summary>
    /// Starts a server; <paramref name="port"/> 0 picks a free port, a given one lets a test restart on it;
    /// <paramref name="time"/> is the overlay's clock (the system clock when null).
    /// </summary>
    public static async Task<OverlayTestServer> StartAsync(
        CancellationToken cancellationToken,
        int port = 0,
        int queueCapacity = 256,
        FakeControlSurface? surface = null,
        string? tokenFolder = null,
        TimeProvider? time = null)
    {
        var ownsFolder = tokenFolder is null;
        tokenFolder ??= Path.Combine(Path.GetTempPath(), "overlay-tests-" + Guid.NewGuid().ToString("N"));
        surface ??= new FakeControlSurface();
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.Services.AddCaptionOverlay(o =>
        {
            o.Port = port;
            o.TokenFolder = tokenFolder;
            o.ClientQueueCapacity = queueCapacity;
        });
        builder.Services.AddSingleton<IControlSurface>(surface);
        if (time is not null)
        {
            builder.Services.AddSingleton(time);
        }

        var options = new OverlayServerOptions { Port = port };
        builder.WebHost.ConfigureKestrel(k => k.ListenForOverlay(options));
        var app = builder.Build();
        var feedConnectionsEnded = Channel.CreateUnbounded<string>();
        app.Use(async (context, next) =>
        {
            try
            {
                await next(context);
            }
            finally
            {
                if (context.Request.Path == "/ws/captions")
                {
                    feedConnectionsEnded.Writer.TryWrite(context.Connection.Id);
                }
            }
        });
        app.MapCaptionOverlay();
        await app.StartAsync(cancellationToken);
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        return new OverlayTestServer(app, surface, tokenFolder, ownsFolder, new Uri(address).Port, feedConnectionsEnded);
    }

    /// <summary>Waits until the server has finished serving one more <c>/ws/captions</c> connection.</summary>
    public async Task FeedConnectionEndedAsync(CancellationToken cancellationToken) =>
        await _feedConnectionsEnded.Reader.ReadAsync(cancellationToken);

    /// <summary>Signals the server is stopping (as on Ctrl+C), without stopping it.</summary>
    public void SignalStopping() => _app.Services.GetRequiredService<IHostApplicationLifetime>().StopApplication();

    public HttpClient CreateClient(bool withToken = false)
    {
        var client = new HttpClient(new SocketsHttpHandler { AllowAutoRedirect = false, UseCookies = false }) { BaseAddress = BaseAddress };
        if (withToken)
        {
            client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", Token.Value);
        }

        return client;
    }

    public async Task<ClientWebSocket> ConnectAsync(CancellationToken cancellationToken, string? languages = null, string? origin = null)
    {
        var socket = new ClientWebSocket();
        socket.Options.CollectHttpResponseDetails = true;
        if (origin is not null)
        {
            socket.Options.SetRequestHeader("Origin", origin);
        }

        var query = languages is null ? string.Empty : "?lang=" + Uri.EscapeDataString(languages);
        await socket.ConnectAsync(new Uri($"ws://127.0.0.1:{Port}/ws/captions{query}"), cancellationToken);
        return socket;
    }

    public async Task StopAsync()
    {
        await _app.StopAsync(CancellationToken.None);
    }

    public async ValueTask DisposeAsync()
    {
        await _app.DisposeAsync();
        if (_ownsTokenFolder && Directory.Exists(TokenFolder))
        {
            Directory.Delete(TokenFolder, recursive: true);
        }
    }

    /// <summary>A caption update with one line per text (final text, tentative tail).</summary>
    public static OverlayCaption Caption(string language, long sequence, params (string Final, string Tentative)[] lines) =>
        new(language, sequence, [.. lines.Select(l => new OverlayCaptionLine(l.Final, l.Tentative))], false, DateTimeOffset.UnixEpoch);
}
