using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace CaptionSidecar.Overlay;

/// <summary>Registers and maps the overlay, the caption feed, the control page and the control API.</summary>
public static class OverlayEndpoints
{
    /// <summary>Name of the HttpOnly cookie that carries the control token after <c>/control?token=</c>.</summary>
    public const string TokenCookieName = "captionsidecar-control";

    private const string ContentSecurityPolicy =
        "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'";

    /// <summary>
    /// Registers <see cref="OverlayServerOptions"/>, the <see cref="CaptionFeed"/> (and a hosted service that warms its
    /// JSON serialiser at start, <see cref="CaptionFeedWarmUp"/>) and the <see cref="ControlToken"/>
    /// (read or made in <see cref="OverlayServerOptions.TokenFolder"/> on first use), and <see cref="TimeProvider.System"/>
    /// unless the host registered a <see cref="TimeProvider"/>. The host must also register an <see cref="IControlSurface"/>.
    /// It changes no host-wide setting: Kestrel's transport options (for example inline scheduling, which suits the
    /// feed's sends on the publisher's thread, see <see cref="CaptionFeed"/>) are the host's to choose.
    /// </summary>
    public static IServiceCollection AddCaptionOverlay(this IServiceCollection services, Action<OverlayServerOptions>? configure = null)
    {
        var options = services.AddOptions<OverlayServerOptions>();
        if (configure is not null)
        {
            options.Configure(configure);
        }

        services.AddSingleton<CaptionFeed>();
        services.AddHostedService<CaptionFeedWarmUp>();
        services.TryAddSingleton(TimeProvider.System);
        services.AddSingleton(sp =>
        {
            var folder = sp.GetRequiredService<IOptions<OverlayServerOptions>>().Value.TokenFolder;
            if (string.IsNullOrWhiteSpace(folder))
            {
                throw new InvalidOperationException(
                    "OverlayServerOptions.TokenFolder is not set; give the per-user config folder that keeps the control token.");
            }

            return ControlToken.LoadOrCreate(folder);
        });
        return services;
    }

    /// <summary>
    /// Adds the Host/Origin guard (for every request of <paramref name="app"/>) and WebSockets, then maps
    /// <c>/overlay</c>, <c>/ws/captions</c>, <c>/control</c>, <c>/api/*</c> and <c>/healthz</c>. Call after
    /// <see cref="AddCaptionOverlay"/> and after registering an <see cref="IControlSurface"/>.
    /// </summary>
    public static WebApplication MapCaptionOverlay(this WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        if (app.Services.GetService<IServiceProviderIsService>() is { } isService && !isService.IsService(typeof(IControlSurface)))
        {
            throw new InvalidOperationException("Register an IControlSurface before MapCaptionOverlay; the control API talks to the host through it.");
        }

        var options = app.Services.GetRequiredService<IOptions<OverlayServerOptions>>().Value;
        var loggerFactory = app.Services.GetRequiredService<ILoggerFactory>();
        var guard = new RequestGuard(options, loggerFactory.CreateLogger("CaptionSidecar.Overlay.RequestGuard"));
        // WebSockets first: the guard needs its feature to tell an upgrade request apart.
        app.UseWebSockets(new WebSocketOptions { KeepAliveInterval = TimeSpan.FromSeconds(15) });
        app.Use(guard.InvokeAsync);

        MapPages(app);
        MapCaptionFeed(app, loggerFactory);
        MapControlApi(app);
        return app;
    }

    /// <summary>
    /// Maps the overlay page alone, <c>/overlay</c> with <c>/overlay.css</c> and <c>/overlay.js</c>, for a host that has
    /// its own feed (the relay: with <c>?stream=NAME</c> the page reads <c>/ws/watch</c> instead of <c>/ws/captions</c>).
    /// </summary>
    public static IEndpointRouteBuilder MapOverlayPage(IEndpointRouteBuilder endpoints)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        MapAsset(endpoints, "/overlay", "overlay.html");
        MapAsset(endpoints, "/overlay.css", "overlay.css");
        MapAsset(endpoints, "/overlay.js", "overlay.js");
        return endpoints;
    }

    private static void MapPages(IEndpointRouteBuilder endpoints)
    {
        MapOverlayPage(endpoints);
        MapAsset(endpoints, "/control.css", "control.css");
        MapAsset(endpoints, "/control.js", "control.js");

        var controlPage = EmbeddedAssets.Read("control.html");
        endpoints.MapGet("/control", async context =>
        {
            var token = context.RequestServices.GetRequiredService<ControlToken>();
            if (context.Request.Query.TryGetValue("token", out var candidate))
            {
                if (!token.Matches(candidate.ToString()))
                {
                    await WritePlainAsync(context, StatusCodes.Status401Unauthorized,
                        "This link's token is not this sidecar's control token. Copy the control URL the sidecar printed at start.");
                    return;
                }

                context.Response.Cookies.Append(TokenCookieName, token.Value, new CookieOptions
                {
                    HttpOnly = true,
                    SameSite = SameSiteMode.Strict,
                    Path = "/",
                    IsEssential = true,
                    MaxAge = TimeSpan.FromDays(400),
                });
                // Drop the token from the address bar and history.
                context.Response.Headers.CacheControl = "no-store";
                context.Response.Redirect("/control");
                return;
            }

            await WriteAssetAsync(context, controlPage, "control.html");
        });
    }

    private static void MapAsset(IEndpointRouteBuilder endpoints, string path, string fileName)
    {
        var content = EmbeddedAssets.Read(fileName);
        endpoints.MapGet(path, context => WriteAssetAsync(context, content, fileName));
    }

    private static async Task WriteAssetAsync(HttpContext context, byte[] content, string fileName)
    {
        var headers = context.Response.Headers;
        headers.ContentSecurityPolicy = ContentSecurityPolicy;
        headers.XContentTypeOptions = "nosniff";
        headers["Referrer-Policy"] = "no-referrer";
        headers.CacheControl = "no-cache";
        context.Response.ContentType = EmbeddedAssets.ContentType(fileName);
        context.Response.ContentLength = content.Length;
        await context.Response.Body.WriteAsync(content, context.RequestAborted);
    }

    private static void MapCaptionFeed(IEndpointRouteBuilder endpoints, ILoggerFactory loggerFactory)
    {
        var logger = loggerFactory.CreateLogger("CaptionSidecar.Overlay.CaptionFeedEndpoint");
        var options = new CaptionFeedClientOptions
        {
            NotWebSocketMessage = "/ws/captions is a WebSocket endpoint; open /overlay in a browser instead.",
        };
        endpoints.MapGet("/ws/captions", context =>
        {
            var services = context.RequestServices;
            return CaptionFeedEndpoint.ServeAsync(
                context,
                services.GetRequiredService<CaptionFeed>(),
                CaptionFeedEndpoint.ParseLanguages(context.Request.Query["lang"].ToString()),
                options,
                services.GetRequiredService<TimeProvider>(),
                logger,
                services.GetRequiredService<IHostApplicationLifetime>().ApplicationStopping);
        });
    }

    private static void MapControlApi(IEndpointRouteBuilder endpoints)
    {
        endpoints.MapGet("/healthz", context => WritePlainAsync(context, StatusCodes.Status200OK, "ok"));

        // The host's own document, passed through (IControlSurface.GetStatus).
        endpoints.MapGet("/api/status", context =>
            WriteJsonAsync(context, StatusCodes.Status200OK, Surface(context).GetStatus(), OverlayJsonContext.Default.JsonElement));

        endpoints.MapGet("/api/languages", context =>
            WriteJsonAsync(context, StatusCodes.Status200OK, Surface(context).GetLanguages(), OverlayJsonContext.Default.IReadOnlyListLanguageState));

        endpoints.MapPut("/api/languages/{code}", async context =>
        {
            if (!await AuthorizeAsync(context))
            {
                return;
            }

            var code = (string)context.Request.RouteValues["code"]!;
            LanguageToggleRequest? body;
            try
            {
                body = await JsonSerializer.DeserializeAsync(context.Request.Body, OverlayJsonContext.Default.LanguageToggleRequest, context.RequestAborted);
            }
            catch (JsonException)
            {
                body = null;
            }

            if (body?.Enabled is not { } enabled)
            {
                await WriteErrorAsync(context, StatusCodes.Status400BadRequest, "Send a JSON body {\"enabled\": true} or {\"enabled\": false}.");
                return;
            }

            if (!await Surface(context).SetLanguageEnabledAsync(code, enabled, context.RequestAborted))
            {
                await WriteErrorAsync(context, StatusCodes.Status404NotFound, $"Unknown language '{code}'; GET /api/languages lists the codes.");
                return;
            }

            var state = Surface(context).GetLanguages().FirstOrDefault(l => string.Equals(l.Code, code, StringComparison.OrdinalIgnoreCase))
                ?? new LanguageState(code, code, enabled);
            await WriteJsonAsync(context, StatusCodes.Status200OK, state, OverlayJsonContext.Default.LanguageState);
        });

        // The host's speakers, passed through (IControlSurface.GetSpeakers).
        endpoints.MapGet("/api/speakers", context =>
            WriteJsonAsync(context, StatusCodes.Status200OK, Surface(context).GetSpeakers(), OverlayJsonContext.Default.JsonElement));

        endpoints.MapPut("/api/speakers/{name}", async context =>
        {
            if (!await AuthorizeAsync(context))
            {
                return;
            }

            var name = (string)context.Request.RouteValues["name"]!;
            SpeakerToggleRequest? body;
            try
            {
                body = await JsonSerializer.DeserializeAsync(context.Request.Body, OverlayJsonContext.Default.SpeakerToggleRequest, context.RequestAborted);
            }
            catch (JsonException)
            {
                body = null;
            }

            if (body?.Captioned is not { } captioned)
            {
                await WriteErrorAsync(context, StatusCodes.Status400BadRequest, "Send a JSON body {\"captioned\": true} or {\"captioned\": false}.");
                return;
            }

            if (await Surface(context).SetSpeakerCaptionedAsync(name, captioned, context.RequestAborted) is not { } state)
            {
                await WriteErrorAsync(context, StatusCodes.Status404NotFound, $"Unknown speaker '{name}'; GET /api/speakers lists the names.");
                return;
            }

            await WriteJsonAsync(context, StatusCodes.Status200OK, state, OverlayJsonContext.Default.JsonElement);
        });

        // A host output's settings (IControlSurface.ConfigureOutputAsync): a JSON object whose schema the host owns.
        endpoints.MapPut("/api/outputs/{name}", async context =>
        {
            if (!await AuthorizeAsync(context))
            {
                return;
            }

            var name = (string)context.Request.RouteValues["name"]!;
            if (context.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } limit)
            {
                limit.MaxRequestBodySize = 16 * 1024;
            }

            JsonElement body;
            try
            {
                body = await JsonSerializer.DeserializeAsync(context.Request.Body, OverlayJsonContext.Default.JsonElement, context.RequestAborted);
            }
            catch (Exception ex) when (ex is JsonException or BadHttpRequestException)
            {
                body = default;
            }

            if (body.ValueKind != JsonValueKind.Object)
            {
                await WriteErrorAsync(context, StatusCodes.Status400BadRequest, "Send a JSON object with the settings to change, for example {\"enabled\": true}.");
                return;
            }

            JsonElement? state;
            try
            {
                state = await Surface(context).ConfigureOutputAsync(name, body, context.RequestAborted);
            }
            catch (ArgumentException ex)
            {
                await WriteErrorAsync(context, StatusCodes.Status400BadRequest, ex.Message);
                return;
            }

            if (state is not { } known)
            {
                await WriteErrorAsync(context, StatusCodes.Status404NotFound, $"Unknown output '{name}'.");
                return;
            }

            await WriteJsonAsync(context, StatusCodes.Status200OK, known, OverlayJsonContext.Default.JsonElement);
        });

        endpoints.MapPost("/api/captions/clear", async context =>
        {
            if (await AuthorizeAsync(context))
            {
                await Surface(context).ClearCaptionsAsync(context.RequestAborted);
                context.Response.StatusCode = StatusCodes.Status204NoContent;
            }
        });

        endpoints.MapPost("/api/captions/test", async context =>
        {
            if (await AuthorizeAsync(context))
            {
                await Surface(context).ShowTestCaptionAsync(context.RequestAborted);
                context.Response.StatusCode = StatusCodes.Status204NoContent;
            }
        });
    }

    private static IControlSurface Surface(HttpContext context) => context.RequestServices.GetRequiredService<IControlSurface>();

    /// <summary>True when the request carries the token (bearer header or login cookie); otherwise answers 401.</summary>
    private static async Task<bool> AuthorizeAsync(HttpContext context)
    {
        var token = context.RequestServices.GetRequiredService<ControlToken>();
        var authorization = context.Request.Headers.Authorization.ToString();
        const string bearer = "Bearer ";
        if (authorization.StartsWith(bearer, StringComparison.OrdinalIgnoreCase) && token.Matches(authorization[bearer.Length..].Trim()))
        {
            return true;
        }

        if (context.Request.Cookies.TryGetValue(TokenCookieName, out var cookie) && token.Matches(cookie))
        {
            return true;
        }

        context.Response.Headers.WWWAuthenticate = "Bearer";
        await WriteErrorAsync(context, StatusCodes.Status401Unauthorized,
            "This needs the control token: open the control URL the sidecar printed at start, or send Authorization: Bearer <token>.");
        return false;
    }

    private static Task WriteErrorAsync(HttpContext context, int statusCode, string message) =>
        WriteJsonAsync(context, statusCode, new ApiError(message), OverlayJsonContext.Default.ApiError);

    private static async Task WriteJsonAsync<T>(HttpContext context, int statusCode, T value, System.Text.Json.Serialization.Metadata.JsonTypeInfo<T> typeInfo)
    {
        context.Response.StatusCode = statusCode;
        context.Response.Headers.CacheControl = "no-store";
        context.Response.ContentType = "application/json; charset=utf-8";
        await JsonSerializer.SerializeAsync(context.Response.Body, value, typeInfo, context.RequestAborted);
    }

    private static async Task WritePlainAsync(HttpContext context, int statusCode, string text)
    {
        context.Response.StatusCode = statusCode;
        context.Response.ContentType = "text/plain; charset=utf-8";
        await context.Response.WriteAsync(text, context.RequestAborted);
    }
}
