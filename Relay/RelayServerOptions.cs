using System.Net;

namespace CaptionSidecar.Relay;

/// <summary>Settings of the relay role (configuration section <see cref="Section"/>, docs/relay.md).</summary>
public sealed class RelayServerOptions
{
    /// <summary>The configuration section these options bind to.</summary>
    public const string Section = "RelayServer";

    /// <summary>The NATS server: <c>nats://[USER:PASS@]HOST:PORT</c> or <c>tls://...</c>.</summary>
    public string? Url { get; set; }

    /// <summary>NATS user name, when not in <see cref="Url"/>.</summary>
    public string? User { get; set; }

    /// <summary>NATS password, when not in <see cref="Url"/> (prefer the environment: <c>CAPTIONSIDECAR_RelayServer__Password</c>).</summary>
    public string? Password { get; set; }

    /// <summary>A NATS <c>.creds</c> file, instead of a user and password.</summary>
    public string? CredentialsFile { get; set; }

    /// <summary>TCP port of the viewer page and feed (0 picks a free one).</summary>
    public int HttpPort { get; set; } = 8080;

    /// <summary>Address to listen on; null listens on every address (a relay is for the internet).</summary>
    public string? Bind { get; set; }

    /// <summary>The streams served, comma-separated; empty serves every stream in the bucket.</summary>
    public string? Streams { get; set; }

    /// <summary>Origins (besides the relay's own) whose pages may open the feed; <c>*</c> allows all.</summary>
    public IList<string> AllowedOrigins { get; } = [];

    /// <summary>Viewers at most on this relay; over it the upgrade is answered 503.</summary>
    public int MaxViewers { get; set; } = 20_000;

    /// <summary>Viewers at most from one address; over it the upgrade is answered 429.</summary>
    public int MaxViewersPerAddress { get; set; } = 50;

    /// <summary>Streams at most with a feed on this relay; others are refused 503.</summary>
    public int MaxStreams { get; set; } = 1000;

    /// <summary>Updates that may wait for one viewer before it is dropped as too slow.</summary>
    public int ViewerQueueCapacity { get; set; } = 16;

    /// <summary>Addresses of reverse proxies whose <c>X-Forwarded-For</c> is trusted.</summary>
    public IList<string> ForwardedFor { get; } = [];

    /// <summary>The stream names of <see cref="Streams"/>, lower-cased; empty for all.</summary>
    public IReadOnlyList<string> StreamList() =>
        [.. (Streams ?? string.Empty).Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(s => s.ToLowerInvariant()).Distinct(StringComparer.Ordinal)];

    /// <summary>Everything wrong with these settings, each a sentence saying what to fix; empty when they are valid.</summary>
    public IReadOnlyList<string> Validate()
    {
        var failures = new List<string>();
        if (string.IsNullOrWhiteSpace(Url))
        {
            failures.Add("RelayServer:Url is missing: give the NATS server with --nats nats://HOST:4222 (or tls://HOST:4222).");
        }
        else if (!Uri.TryCreate(Url, UriKind.Absolute, out var uri) || uri.Scheme is not ("nats" or "tls") || string.IsNullOrEmpty(uri.Host))
        {
            failures.Add($"--nats '{RedactUrl(Url)}' is not a NATS URL: use nats://[USER:PASS@]HOST:PORT or tls://HOST:PORT.");
        }

        if (CredentialsFile is { Length: > 0 } creds && !File.Exists(creds))
        {
            failures.Add($"RelayServer:CredentialsFile '{creds}' does not exist: give the path of a NATS .creds file.");
        }

        if (HttpPort is < 0 or > 65535)
        {
            failures.Add($"--http-port {HttpPort} is out of range: use 1-65535 (0 = any free port).");
        }

        if (Bind is { Length: > 0 } bind && !IPAddress.TryParse(bind, out _))
        {
            failures.Add($"--bind '{bind}' is not an IP address: use for example 0.0.0.0, :: or 127.0.0.1.");
        }

        foreach (var stream in StreamList())
        {
            if (!CaptionSubjects.IsValidStream(stream))
            {
                failures.Add($"--streams: '{stream}' is not a stream name: use 1 to {CaptionSubjects.MaxStreamLength} letters, digits and dashes.");
            }
        }

        foreach (var origin in AllowedOrigins)
        {
            if (OriginPolicy.Normalise(origin) is null)
            {
                failures.Add($"--allow-origin '{origin}' is not an origin: use scheme://host[:port] (for example https://example.com) or *.");
            }
        }

        foreach (var proxy in ForwardedFor)
        {
            if (!IPAddress.TryParse(proxy, out _))
            {
                failures.Add($"--forwarded-for '{proxy}' is not an IP address: give the address your reverse proxy connects from (for example 127.0.0.1).");
            }
        }

        if (MaxViewers < 1)
        {
            failures.Add($"RelayServer:MaxViewers {MaxViewers} must be at least 1.");
        }

        if (MaxViewersPerAddress < 1)
        {
            failures.Add($"RelayServer:MaxViewersPerAddress {MaxViewersPerAddress} must be at least 1.");
        }

        if (MaxStreams < 1)
        {
            failures.Add($"RelayServer:MaxStreams {MaxStreams} must be at least 1.");
        }

        if (ViewerQueueCapacity < 1)
        {
            failures.Add($"RelayServer:ViewerQueueCapacity {ViewerQueueCapacity} must be at least 1.");
        }

        return failures;
    }

    /// <summary><paramref name="url"/> with any password replaced by <c>***</c>, for logs and messages.</summary>
    public static string RedactUrl(string? url)
    {
        if (string.IsNullOrEmpty(url))
        {
            return string.Empty;
        }

        var scheme = url.IndexOf("://", StringComparison.Ordinal);
        var at = url.LastIndexOf('@');
        if (scheme < 0 || at < scheme)
        {
            return url;
        }

        var userInfo = url[(scheme + 3)..at];
        var colon = userInfo.IndexOf(':', StringComparison.Ordinal);
        return colon < 0 ? url : $"{url[..(scheme + 3)]}{userInfo[..colon]}:***{url[at..]}";
    }
}
