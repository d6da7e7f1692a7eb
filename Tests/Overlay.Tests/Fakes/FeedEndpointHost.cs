using System.Threading.Channels;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace CaptionSidecar.Overlay.Tests.Fakes;

/// <summary>
/// A host with a feed of its own served by <see cref="CaptionFeedEndpoint"/> on <c>/feed?lang=</c>, as a relay
/// would: a real Kestrel on 127.0.0.1, recording the hooks' calls.
/// </summary>
public sealed class FeedEndpointHost : IAsyncDisposable
{
    private readonly WebApplication _app;

    private FeedEndpointHost(WebApplication app, CaptionFeed feed, int port)
    {
        _app = app;
        Feed = feed;
        Port = port;
    }

    public CaptionFeed Feed { get; }

    public int Port { get; }

    /// <summary>"subscribed NAME LANGS" and "left NAME END", in the order the hooks ran.</summary>
    public Channel<string> Hooks { get; } = Channel.CreateUnbounded<string>();

    /// <summary>Starts it; <paramref name="http2"/> listens for HTTP/2 only (cleartext, prior knowledge), where WebSockets are extended CONNECTs.</summary>
    /// <remarks>"ended" is written to <see cref="Hooks"/> when a request to /feed has been served; <paramref name="time"/> is the endpoint's clock.</remarks>
    public static async Task<FeedEndpointHost> StartAsync(
        CancellationToken ct, int queueCapacity = 16, int maxClientMessageBytes = 1024, bool http2 = false, TimeProvider? time = null)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k => k.Listen(System.Net.IPAddress.Loopback, 0, listen =>
            listen.Protocols = http2 ? Microsoft.AspNetCore.Server.Kestrel.Core.HttpProtocols.Http2 : Microsoft.AspNetCore.Server.Kestrel.Core.HttpProtocols.Http1));
        var app = builder.Build();
        var feed = new CaptionFeed(Options.Create(new OverlayServerOptions { ClientQueueCapacity = queueCapacity }), NullLogger<CaptionFeed>.Instance);
        FeedEndpointHost? host = null;
        var options = new CaptionFeedClientOptions
        {
            MaxClientMessageBytes = maxClientMessageBytes,
            NotWebSocketMessage = "/feed is a WebSocket endpoint.",
            Subscribed = client => host!.Hooks.Writer.TryWrite($"subscribed {string.Join(',', client.Languages)}"),
            Left = (client, end) => host!.Hooks.Writer.TryWrite($"left {string.Join(',', client.Languages)} {end}"),
        };
        app.UseWebSockets();
        // HTTP/2 WebSockets are CONNECT requests: a MapGet route answers them 405.
        app.MapMethods("/feed", [HttpMethods.Get, HttpMethods.Connect], async context =>
        {
            await CaptionFeedEndpoint.ServeAsync(
                context,
                feed,
                CaptionFeedEndpoint.ParseLanguages(context.Request.Query["lang"].ToString()),
                options,
                time ?? TimeProvider.System,
                NullLogger.Instance,
                context.RequestServices.GetRequiredService<IHostApplicationLifetime>().ApplicationStopping);
            host!.Hooks.Writer.TryWrite("ended");
        });
        await app.StartAsync(ct);
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        host = new FeedEndpointHost(app, feed, new Uri(address).Port);
        return host;
    }

    /// <summary>Signals the host is stopping (as on Ctrl+C), without stopping it.</summary>
    public void SignalStopping() => _app.Services.GetRequiredService<IHostApplicationLifetime>().StopApplication();

    public Uri FeedUri(string languages) => new($"ws://127.0.0.1:{Port}/feed?lang={languages}");

    /// <summary>The next hook call.</summary>
    public async Task<string> NextHookAsync(CancellationToken ct) => await Hooks.Reader.ReadAsync(ct);

    public async ValueTask DisposeAsync() => await _app.DisposeAsync();
}
