using System.Net;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace CaptionSidecar.Overlay;

/// <summary>Where the overlay server listens, and the URLs to give people.</summary>
public static partial class OverlayKestrel
{
    /// <summary>
    /// Listens on 127.0.0.1 and [::1] at <see cref="OverlayServerOptions.Port"/> (only 127.0.0.1 when the port is 0),
    /// or on <see cref="OverlayServerOptions.BindAddress"/> when set, with a loud warning: then anyone on that network
    /// can read the captions (changes still need the token).
    /// </summary>
    /// <exception cref="ArgumentException">The bind address or the port is not valid.</exception>
    public static void ListenForOverlay(this KestrelServerOptions kestrel, OverlayServerOptions options)
    {
        ArgumentNullException.ThrowIfNull(kestrel);
        ArgumentNullException.ThrowIfNull(options);
        if (options.Port is < 0 or > 65535)
        {
            throw new ArgumentException($"HTTP port {options.Port} is out of range; use 1-65535 (default {OverlayServerOptions.DefaultPort}).", nameof(options));
        }

        if (options.BindAddress is null)
        {
            if (options.Port == 0)
            {
                kestrel.Listen(IPAddress.Loopback, 0);
            }
            else
            {
                // Binds 127.0.0.1 and [::1]; tolerates a machine without IPv6.
                kestrel.ListenLocalhost(options.Port);
            }

            return;
        }

        if (!IPAddress.TryParse(options.BindAddress, out var address))
        {
            throw new ArgumentException(
                $"HTTP bind address '{options.BindAddress}' is not an IP address; use for example 0.0.0.0 or 192.168.1.20.", nameof(options));
        }

        kestrel.Listen(address, options.Port);
        if (!IPAddress.IsLoopback(address))
        {
            var logger = kestrel.ApplicationServices?.GetService<ILoggerFactory>()?.CreateLogger(typeof(OverlayKestrel))
                ?? NullLogger.Instance;
            LogListeningOnNetwork(logger, address.ToString(), options.Port);
        }
    }

    /// <summary>The Browser Source URL of the overlay, for example <c>http://localhost:4470/overlay?lang=en</c>.</summary>
    public static Uri OverlayUrl(int port, string? languages = null) =>
        new(string.IsNullOrWhiteSpace(languages)
            ? $"http://localhost:{port}/overlay"
            : $"http://localhost:{port}/overlay?lang={Uri.EscapeDataString(languages)}");

    /// <summary>The control page URL that logs in with <paramref name="token"/>; print it on the console only, never log it.</summary>
    public static Uri ControlLoginUrl(int port, ControlToken token)
    {
        ArgumentNullException.ThrowIfNull(token);
        return new($"http://localhost:{port}/control?token={token.Value}");
    }

    [LoggerMessage(Level = LogLevel.Warning,
        Message = "!!! The overlay server listens on {Address}:{Port}, reachable from the network: anyone who can reach it can read the captions. "
            + "The control API still needs the token. Add the name or address people use to OverlayServerOptions.AllowedHostNames.")]
    private static partial void LogListeningOnNetwork(ILogger logger, string address, int port);
}
