using System.Net;
using System.Text.Json;
using System.Text.Json.Serialization;
using CaptionSidecar.Overlay;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace CaptionSidecar.Relay;

/// <summary>Registers and maps the relay: its NATS watch, its loop, and the viewer endpoints of docs/relay.md.</summary>
public static partial class RelayEndpoints
{
    private const string AssetPrefix = "CaptionSidecar.Relay.wwwroot.";

    /// <summary>
    /// Registers <see cref="RelayServerOptions"/> (validated at start), <see cref="RelayMetrics"/>, the
    /// <see cref="RelayHub"/> and the <see cref="NatsCaptionSource"/>. The host registers a <see cref="RelayRetryPolicy"/>
    /// (its backoff) and binds the options (for example from the <see cref="RelayServerOptions.Section"/> section).
    /// </summary>
    public static IServiceCollection AddCaptionRelay(this IServiceCollection services)
    {
        services.AddOptions<RelayServerOptions>().ValidateOnStart();
        services.AddSingleton<IValidateOptions<RelayServerOptions>, RelayOptionsValidation>();
        services.TryAddSingleton(TimeProvider.System);
        services.AddSingleton<RelayMetrics>();
        services.AddSingleton<RelayHub>();
        services.AddHostedService(sp => sp.GetRequiredService<RelayHub>());
        services.AddSingleton<NatsCaptionSource>();
        services.AddHostedService(sp => sp.GetRequiredService<NatsCaptionSource>());
        return services;
    }

    /// <summary>Kestrel's limits for a relay on the internet: 16 KiB of headers, 8 KiB request line, no bodies.</summary>
    public static void ApplyRelayLimits(this KestrelServerOptions kestrel)
    {
        ArgumentNullException.ThrowIfNull(kestrel);
        kestrel.AddServerHeader = false;
        kestrel.Limits.MaxRequestHeadersTotalSize = 16 * 1024;
        kestrel.Limits.MaxRequestLineSize = 8 * 1024;
        kestrel.Limits.MaxRequestBodySize = 0;
    }

    /// <summary>
    /// Maps <c>/watch</c> (and its assets), <c>/api/watch/languages</c>, <c>/ws/watch</c>, <c>/overlay</c>, <c>/healthz</c>
    /// and <c>/metrics</c>; nothing else, and nothing that changes state.
    /// </summary>
    public static WebApplication MapCaptionRelay(this WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        var options = app.Services.GetRequiredService<IOptions<RelayServerOptions>>().Value;
        var origins = new OriginPolicy(options.AllowedOrigins);
        var proxies = options.ForwardedFor.Select(IPAddress.Parse).ToHashSet();
        var caps = new ViewerCaps(options.MaxViewers, options.MaxViewersPerAddress);
        var metrics = app.Services.GetRequiredService<RelayMetrics>();
        // The Overlay library's feed endpoint: each update framed once for every viewer; what a viewer sends is
        // dropped, a message over 1 KiB closes with 1009.
        var viewerOptions = new CaptionFeedClientOptions
        {
            NotWebSocketMessage = "/ws/watch is a WebSocket endpoint; open /watch?stream=NAME in a browser instead.",
        };
        var hub = app.Services.GetRequiredService<RelayHub>();
        var source = app.Services.GetRequiredService<NatsCaptionSource>();
        var time = app.Services.GetRequiredService<TimeProvider>();
        var logger = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("CaptionSidecar.Relay.Viewers");
        var stopping = app.Services.GetRequiredService<IHostApplicationLifetime>().ApplicationStopping;

        app.Use(async (context, next) =>
        {
            if (context.Request.ContentLength > 0 || context.Request.Headers.TransferEncoding.Count > 0)
            {
                metrics.CountRefused("body");
                await WritePlainAsync(context, StatusCodes.Status413PayloadTooLarge, "This relay takes no request bodies.");
                return;
            }

            await next(context);
        });
        app.UseWebSockets(new WebSocketOptions { KeepAliveInterval = TimeSpan.FromSeconds(20) });

        MapPage(app, origins);
        OverlayEndpoints.MapOverlayPage(app);

        app.MapGet("/api/watch/languages", async context =>
        {
            var stream = context.Request.Query["stream"].ToString().ToLowerInvariant();
            if (!CaptionSubjects.IsValidStream(stream))
            {
                await WritePlainAsync(context, StatusCodes.Status400BadRequest,
                    $"Give the stream: ?stream=NAME, 1 to {CaptionSubjects.MaxStreamLength} letters, digits and dashes.");
                return;
            }

            context.Response.Headers.CacheControl = "no-cache";
            context.Response.ContentType = "application/json; charset=utf-8";
            await JsonSerializer.SerializeAsync(
                context.Response.Body, new LanguageList(stream, hub.LanguagesOf(stream)), RelayJsonContext.Default.LanguageList, context.RequestAborted);
        });

        // GET for HTTP/1.1 upgrades, CONNECT for HTTP/2 WebSockets (a MapGet route answers those 405).
        app.MapMethods("/ws/watch", ["GET", "CONNECT"], async context =>
        {
            var stream = context.Request.Query["stream"].ToString().ToLowerInvariant();
            var languages = CaptionFeedEndpoint.ParseLanguages(context.Request.Query["lang"]).Select(l => l.ToLowerInvariant()).ToArray();
            if (!CaptionSubjects.IsValidStream(stream) || languages.Any(l => !CaptionSubjects.IsValidLanguage(l)))
            {
                metrics.CountRefused("bad_request");
                await WritePlainAsync(context, StatusCodes.Status400BadRequest,
                    "Give the stream and languages: /ws/watch?stream=NAME&lang=en (or lang=en,es).");
                return;
            }

            if (!context.WebSockets.IsWebSocketRequest)
            {
                // Before the caps and the origin check, so a plain request takes no viewer's place.
                await WritePlainAsync(context, StatusCodes.Status400BadRequest, viewerOptions.NotWebSocketMessage);
                return;
            }

            var origin = context.Request.Headers.Origin.ToString();
            if (!origins.Allows(origin, context.Request.Scheme, context.Request.Host.Value ?? string.Empty))
            {
                metrics.CountRefused("origin");
                LogOriginRefused(logger, origin);
                await WritePlainAsync(context, StatusCodes.Status403Forbidden,
                    "Pages of this site may not open this relay's captions; the relay's operator can allow it with --allow-origin.");
                return;
            }

            var address = ClientAddress(context, proxies);
            switch (caps.TryAdmit(address))
            {
                case Admission.RelayFull:
                    metrics.CountRefused("relay_full");
                    context.Response.Headers.RetryAfter = "10";
                    await WritePlainAsync(context, StatusCodes.Status503ServiceUnavailable, "relay full: try again in a moment, or another relay.");
                    return;
                case Admission.AddressFull:
                    metrics.CountRefused("address_full");
                    context.Response.Headers.RetryAfter = "30";
                    await WritePlainAsync(context, StatusCodes.Status429TooManyRequests,
                        $"Too many viewers from your address ({options.MaxViewersPerAddress} at most).");
                    return;
            }

            try
            {
                if (hub.FeedFor(stream) is not { } feed)
                {
                    metrics.CountRefused("unknown_stream");
                    context.Response.Headers.RetryAfter = "10";
                    await WritePlainAsync(context, StatusCodes.Status404NotFound,
                        $"Stream '{stream}' is not live on this relay (not started yet, or over its {options.MaxStreams} streams); try again in a moment.");
                    return;
                }

                string[] counted = languages.Length == 0 ? ["*"] : languages;
                foreach (var language in counted)
                {
                    metrics.AddViewer(stream, language, 1);
                }

                try
                {
                    await CaptionFeedEndpoint.ServeAsync(context, feed, languages, viewerOptions, time, logger, stopping);
                }
                finally
                {
                    foreach (var language in counted)
                    {
                        metrics.AddViewer(stream, language, -1);
                    }
                }
            }
            finally
            {
                caps.Release(address);
            }
        });

        app.MapGet("/healthz", context => source.Unhealthy is { } reason
            ? WritePlainAsync(context, StatusCodes.Status503ServiceUnavailable, reason)
            : WritePlainAsync(context, StatusCodes.Status200OK, "ok"));

        app.MapGet("/metrics", async context =>
        {
            context.Response.ContentType = "text/plain; version=0.0.4; charset=utf-8";
            await context.Response.WriteAsync(metrics.ToPrometheus(hub.SlowViewersDropped), context.RequestAborted);
        });

        return app;
    }

    /// <summary>
    /// The viewer's address: the connection's, or, when that is a trusted proxy, the last address of
    /// <c>X-Forwarded-For</c> (the one the proxy added).
    /// </summary>
    internal static string ClientAddress(HttpContext context, IReadOnlySet<IPAddress> trustedProxies)
    {
        var remote = context.Connection.RemoteIpAddress;
        if (remote is null)
        {
            return "unknown";
        }

        if (remote.IsIPv4MappedToIPv6)
        {
            remote = remote.MapToIPv4();
        }

        if (trustedProxies.Contains(remote)
            && context.Request.Headers["X-Forwarded-For"].ToString().Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries) is { Length: > 0 } chain
            && IPAddress.TryParse(chain[^1], out var forwarded))
        {
            return forwarded.ToString();
        }

        return remote.ToString();
    }

    private static void MapPage(IEndpointRouteBuilder endpoints, OriginPolicy origins)
    {
        var ancestors = origins.SourceList is "*" ? "*" : $"'self' {origins.SourceList}".TrimEnd();
        var csp = $"default-src 'self'; connect-src 'self' ws: wss:; style-src 'self'; script-src 'self'; img-src 'self' data:; frame-ancestors {ancestors}";
        var assembly = typeof(RelayEndpoints).Assembly;
        foreach (var name in assembly.GetManifestResourceNames().Where(n => n.StartsWith(AssetPrefix, StringComparison.Ordinal)))
        {
            var file = name[AssetPrefix.Length..];
            using var stream = assembly.GetManifestResourceStream(name)!;
            using var copy = new MemoryStream();
            stream.CopyTo(copy);
            var content = copy.ToArray();
            var path = file == "watch.html" ? "/watch" : "/" + file;
            endpoints.MapGet(path, async context =>
            {
                var headers = context.Response.Headers;
                headers.ContentSecurityPolicy = csp;
                headers.XContentTypeOptions = "nosniff";
                headers["Referrer-Policy"] = "no-referrer";
                headers.CacheControl = "no-cache";
                context.Response.ContentType = Path.GetExtension(file) switch
                {
                    ".html" => "text/html; charset=utf-8",
                    ".css" => "text/css; charset=utf-8",
                    ".js" => "text/javascript; charset=utf-8",
                    ".svg" => "image/svg+xml",
                    ".png" => "image/png",
                    _ => "application/octet-stream",
                };
                context.Response.ContentLength = content.Length;
                await context.Response.Body.WriteAsync(content, context.RequestAborted);
            });
        }
    }

    private static async Task WritePlainAsync(HttpContext context, int statusCode, string text)
    {
        context.Response.StatusCode = statusCode;
        context.Response.ContentType = "text/plain; charset=utf-8";
        await context.Response.WriteAsync(text, context.RequestAborted);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Refused a viewer from Origin {Origin} (not allowed; see --allow-origin)")]
    private static partial void LogOriginRefused(ILogger logger, string origin);

    private sealed class RelayOptionsValidation : IValidateOptions<RelayServerOptions>
    {
        public ValidateOptionsResult Validate(string? name, RelayServerOptions options) =>
            options.Validate() is { Count: > 0 } failures ? ValidateOptionsResult.Fail(failures) : ValidateOptionsResult.Success;
    }
}

/// <summary>The answer of <c>/api/watch/languages</c>.</summary>
/// <param name="Stream">The stream asked for.</param>
/// <param name="Languages">Its live languages, in code order.</param>
public sealed record LanguageList(string Stream, IReadOnlyList<string> Languages);

/// <summary>Source-generated JSON of the relay's own answers.</summary>
[JsonSourceGenerationOptions(JsonSerializerDefaults.Web)]
[JsonSerializable(typeof(LanguageList))]
internal sealed partial class RelayJsonContext : JsonSerializerContext;
