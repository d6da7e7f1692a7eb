using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace CaptionSidecar.Overlay;

/// <summary>
/// Refuses requests that a hostile web page could make through the user's browser: a Host header that is not this
/// machine's (DNS rebinding) and, on WebSocket upgrades and state-changing methods, an Origin that is not this
/// server's own. Requests without Origin (OBS, curl, the tray) pass the Origin check.
/// </summary>
internal sealed partial class RequestGuard
{
    private static readonly string[] LoopbackHosts = ["localhost", "127.0.0.1", "[::1]"];
    private readonly HashSet<string> _allowedHosts;
    private readonly ILogger _logger;

    public RequestGuard(OverlayServerOptions options, ILogger logger)
    {
        _allowedHosts = new HashSet<string>(LoopbackHosts, StringComparer.OrdinalIgnoreCase);
        foreach (var name in options.AllowedHostNames)
        {
            var trimmed = name.Trim();
            // An IPv6 address appears in Host with brackets; accept it configured with or without them.
            _allowedHosts.Add(trimmed.Contains(':', StringComparison.Ordinal) && !trimmed.StartsWith('[') ? $"[{trimmed}]" : trimmed);
        }

        _logger = logger;
    }

    public async Task InvokeAsync(HttpContext context, RequestDelegate next)
    {
        var request = context.Request;
        var host = request.Host;
        if (!host.HasValue || !_allowedHosts.Contains(host.Host))
        {
            LogHostRefused(host.Value ?? string.Empty, request.Path.Value ?? string.Empty);
            await RefuseAsync(context, StatusCodes.Status421MisdirectedRequest,
                "This server answers only to localhost, 127.0.0.1, [::1] and configured host names.");
            return;
        }

        if (NeedsOriginCheck(context) && request.Headers.Origin.ToString() is { Length: > 0 } origin && !IsSameOrigin(origin, request))
        {
            LogOriginRefused(origin, request.Method, request.Path.Value ?? string.Empty);
            await RefuseAsync(context, StatusCodes.Status403Forbidden,
                "Requests from other web sites are not allowed; open the page from this server instead.");
            return;
        }

        await next(context);
    }

    private static bool NeedsOriginCheck(HttpContext context)
    {
        var method = context.Request.Method;
        return context.WebSockets.IsWebSocketRequest
            || !(HttpMethods.IsGet(method) || HttpMethods.IsHead(method) || HttpMethods.IsOptions(method));
    }

    private static bool IsSameOrigin(string origin, HttpRequest request) =>
        Uri.TryCreate(origin, UriKind.Absolute, out var uri)
        && string.Equals(uri.Scheme, request.Scheme, StringComparison.OrdinalIgnoreCase)
        && string.Equals(uri.Authority, request.Host.Value, StringComparison.OrdinalIgnoreCase)
        && uri.AbsolutePath == "/";

    private static async Task RefuseAsync(HttpContext context, int statusCode, string message)
    {
        context.Response.StatusCode = statusCode;
        context.Response.ContentType = "text/plain; charset=utf-8";
        await context.Response.WriteAsync(message, context.RequestAborted);
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Refused request for {Path} with Host {Host} (not an allowed host name)")]
    private partial void LogHostRefused(string host, string path);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Refused {Method} {Path} from foreign Origin {Origin}")]
    private partial void LogOriginRefused(string origin, string method, string path);
}
