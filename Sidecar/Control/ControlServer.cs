using CaptionSidecar.Captions;
using CaptionSidecar.Hosting;
using CaptionSidecar.Outputs;
using CaptionSidecar.Overlay;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
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

        services.AddSingleton<OverlayCaptionSink>();
        services.AddSingleton<ICaptionSink>(sp => sp.GetRequiredService<OverlayCaptionSink>());
        services.AddSingleton<IControlSurface, ControlSurface>();
        services.AddHostedService<ControlAnnouncement>();
        services.AddHostedService<TrayService>();
        return services;
    }
}

/// <summary>
/// Prints the overlay URL and the control URL with its token on the console at start: stderr, never the log file
/// (the token is a secret) and never stdout (which carries only captions).
/// </summary>
internal sealed class ControlAnnouncement(IHostApplicationLifetime lifetime, IServer server, ControlToken token) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken)
    {
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
}
