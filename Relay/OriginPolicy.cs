namespace CaptionSidecar.Relay;

/// <summary>
/// Which web pages may open the feed (the WebSocket upgrade): the relay's own origin, the configured ones, or all
/// with <c>*</c>. A request without Origin (not a browser) passes.
/// </summary>
public sealed class OriginPolicy
{
    private readonly HashSet<string> _allowed;
    private readonly bool _any;

    /// <summary>Builds the policy from <see cref="RelayServerOptions.AllowedOrigins"/>.</summary>
    public OriginPolicy(IEnumerable<string> allowedOrigins)
    {
        ArgumentNullException.ThrowIfNull(allowedOrigins);
        var list = allowedOrigins.ToList();
        _any = list.Any(o => o.Trim() == "*");
        _allowed = new HashSet<string>(list.Select(Normalise).OfType<string>(), StringComparer.OrdinalIgnoreCase);
    }

    /// <summary>The origins as a CSP source list (for <c>frame-ancestors</c>); <c>*</c> when open.</summary>
    public string SourceList => _any ? "*" : string.Join(' ', _allowed);

    /// <summary>True when a page of <paramref name="origin"/> may connect to a relay reached as <paramref name="scheme"/>://<paramref name="host"/>.</summary>
    public bool Allows(string? origin, string scheme, string host)
    {
        if (string.IsNullOrEmpty(origin) || _any)
        {
            return true;
        }

        if (Normalise(origin) is not { } normal)
        {
            return false;
        }

        return _allowed.Contains(normal) || IsOwn(normal, scheme, host);
    }

    private static bool IsOwn(string origin, string scheme, string host)
    {
        var own = Normalise($"{scheme}://{host}");
        // Behind a TLS-terminating proxy the page is https while the relay sees http: the host decides.
        var wsScheme = scheme == "http" ? "https" : "http";
        return string.Equals(origin, own, StringComparison.OrdinalIgnoreCase)
            || string.Equals(origin, Normalise($"{wsScheme}://{host}"), StringComparison.OrdinalIgnoreCase);
    }

    /// <summary><c>scheme://host[:port]</c> lower-cased without default port or path; null when it is not an origin (or <c>*</c>).</summary>
    public static string? Normalise(string? origin)
    {
        var value = origin?.Trim();
        if (value == "*")
        {
            return "*";
        }

        if (!Uri.TryCreate(value, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https")
            || string.IsNullOrEmpty(uri.Host) || uri.PathAndQuery is not ("/" or "") || !string.IsNullOrEmpty(uri.UserInfo))
        {
            return null;
        }

        return uri.IsDefaultPort ? $"{uri.Scheme}://{uri.Host}".ToLowerInvariant() : $"{uri.Scheme}://{uri.Host}:{uri.Port}".ToLowerInvariant();
    }
}
