using CaptionSidecar.Captions;
using CaptionSidecar.Hosting;
using CaptionSidecar.Outputs;
using CaptionSidecar.Overlay;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Server.Kestrel.Transport.Sockets;
using Microsoft.Extensions.Options;

namespace CaptionSidecar.Control;

/// <summary>Registers the overlay and control server (the Overlay library) with the sidecar's host.</summary>
internal static class ControlServer
{
    /// <summary>
    /// Kestrel on loopback (<see cref="HttpOptions"/>), the overlay library with its token kept in the per-user data
    /// folder, the overlay caption sink, the control surface, and the start-up line with the control URL.
    /// </summary>
    public static IServiceCollection AddControlServer(this IServiceCollection services, IWebHostBuilder webHost, IConfiguration configuration, DataFolders folders)
    {
        services.AddOptions<HttpOptions>().Bind(configuration.GetSection(HttpOptions.Section)).ValidateDataAnnotations().ValidateOnStart();
        var http = configuration.GetSection(HttpOptions.Section).Get<HttpOptions>() ?? new HttpOptions();
        services.AddRouting();
        services.AddCaptionOverlay(o =>
        {
            o.Port = http.Port;
            o.BindAddress = string.IsNullOrWhiteSpace(http.Bind) ? null : http.Bind;
            o.TokenFolder = Path.Combine(folders.Root, "control");
            foreach (var name in (http.AllowedHosts ?? string.Empty).Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            {
                o.AllowedHostNames.Add(name);
            }
        });
        webHost.UseKestrelCore().ConfigureKestrel((context, kestrel) =>
            kestrel.ListenForOverlay(kestrel.ApplicationServices.GetRequiredService<IOptions<OverlayServerOptions>>().Value));
        // The sidecar's choice for its own server (the overlay library leaves it alone): the caption feed sends to idle
        // clients on the publisher's thread (CaptionFeed), and inline transport scheduling lets Kestrel write those
        // bytes to the socket on that same thread instead of waking an I/O-queue thread per client and update, and run
        // requests without one more thread-pool hop (1,000 overlay clients: p50 about 19 instead of 31 ms in
        // docs/benchmarks.md). It is safe only because nothing this server runs blocks a thread (BannedSymbols.txt):
        // a blocking handler would stall the socket's I/O with it. ControlAnnouncement logs it at start.
        services.Configure<SocketTransportOptions>(o => o.UnsafePreferInlineScheduling = true);

        services.AddSingleton<OverlayCaptionSink>();
        services.AddSingleton<ICaptionSink>(sp => sp.GetRequiredService<OverlayCaptionSink>());
        services.AddSingleton<ControlSurface>();
        services.AddSingleton<ISidecarControl>(sp => sp.GetRequiredService<ControlSurface>());
        services.AddSingleton<IControlSurface>(sp => sp.GetRequiredService<ControlSurface>());
        services.AddHostedService<ControlAnnouncement>();
        services.AddHostedService<TrayService>();
        return services;
    }
}

/// <summary>
/// Says where everything is at start: the user's settings file in the log (console and file), then the overlay URL
/// and the control URL with its token on the console: stderr, never the log file (the token is a secret) and never
/// stdout (which carries only captions).
/// </summary>
internal sealed partial class ControlAnnouncement(
    IHostApplicationLifetime lifetime, IServer server, ControlToken token, IOptions<SocketTransportOptions> transport, UserSettingsFile settings,
    ILogger<ControlAnnouncement> logger)
    : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken)
    {
        if (transport.Value.UnsafePreferInlineScheduling)
        {
            LogInlineScheduling();
        }

        if (settings.Created)
        {
            LogSettingsCreated(settings.Path);
        }
        else
        {
            LogSettings(settings.Path);
        }

        lifetime.ApplicationStarted.Register(() =>
        {
            var address = server.Features.Get<IServerAddressesFeature>()?.Addresses.FirstOrDefault();
            if (address is null)
            {
                return;
            }

            var port = new Uri(address).Port;
            Console.Error.WriteLine($"Overlay (OBS Browser Source): {OverlayKestrel.OverlayUrl(port)}");
            Console.Error.WriteLine($"Control page (keep it private): http://localhost:{port}/control?token={token.Value}");
        });
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    [LoggerMessage(Level = LogLevel.Information, Message = "Settings file: {Path}")]
    private partial void LogSettings(string path);

    [LoggerMessage(Level = LogLevel.Information,
        Message = "Settings file: {Path} (new: set your API key, input, languages and OBS password there, then start again)")]
    private partial void LogSettingsCreated(string path);

    [LoggerMessage(Level = LogLevel.Debug,
        Message = "The HTTP server runs socket I/O inline (Kestrel UnsafePreferInlineScheduling): overlay updates reach each client's socket on the publishing thread; nothing on this server blocks a thread")]
    private partial void LogInlineScheduling();
}
