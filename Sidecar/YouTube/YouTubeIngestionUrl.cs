using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Text;

namespace CaptionSidecar.YouTube;

/// <summary>
/// YouTube's caption ingestion URL, a secret (it signs the stream): <see cref="Display"/> shows the host only, and
/// <see cref="ToString"/> does the same, so it cannot reach a log by accident. <see cref="WithSeq"/> is the only way
/// to the full URL.
/// </summary>
internal sealed class YouTubeIngestionUrl : IEquatable<YouTubeIngestionUrl>
{
    private readonly string _url;

    private YouTubeIngestionUrl(string url, Uri uri)
    {
        _url = url;
        Display = $"{uri.Scheme}://{uri.Authority}/…";
        Host = uri.Host;
    }

    /// <summary>The URL as logs, status and the control page show it: scheme and host, nothing that identifies the stream.</summary>
    public string Display { get; }

    /// <summary>The host alone.</summary>
    public string Host { get; }

    /// <summary>
    /// Parses <paramref name="text"/>; on failure <paramref name="problem"/> says what to fix, without repeating the URL.
    /// </summary>
    public static bool TryParse(string? text, [NotNullWhen(true)] out YouTubeIngestionUrl? url, [NotNullWhen(false)] out string? problem)
    {
        url = null;
        var trimmed = text?.Trim() ?? string.Empty;
        if (trimmed.Length == 0)
        {
            problem = "no ingestion URL is set: copy it from YouTube Studio (Go live, stream settings, \"Post captions to URL\").";
            return false;
        }

        if (!Uri.TryCreate(trimmed, UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps) || uri.Host.Length == 0)
        {
            problem = "the ingestion URL must be the http:// or https:// address YouTube Studio shows under \"Post captions to URL\".";
            return false;
        }

        if (uri.Query.Length <= 1)
        {
            problem = $"the ingestion URL for {uri.Host} has no query (?...): copy the whole URL from YouTube Studio, it ends with the stream's signature.";
            return false;
        }

        if (!string.IsNullOrEmpty(uri.UserInfo) || !string.IsNullOrEmpty(uri.Fragment))
        {
            problem = "the ingestion URL must not hold a user name or a #fragment: copy it again from YouTube Studio.";
            return false;
        }

        // A seq of its own (copied from a post) would be doubled by ours.
        var query = string.Join('&', uri.Query[1..].Split('&', StringSplitOptions.RemoveEmptyEntries)
            .Where(p => !p.StartsWith("seq=", StringComparison.OrdinalIgnoreCase) && !string.Equals(p, "seq", StringComparison.OrdinalIgnoreCase)));
        var builder = new StringBuilder(uri.GetLeftPart(UriPartial.Path));
        if (query.Length > 0)
        {
            builder.Append('?').Append(query);
        }

        url = new YouTubeIngestionUrl(builder.ToString(), uri);
        problem = null;
        return true;
    }

    /// <summary>The URL of the post numbered <paramref name="seq"/> (YouTube's <c>seq</c>: one more for each new post, the same for a retry).</summary>
    public Uri WithSeq(long seq)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(seq, 1);
        var separator = _url.Contains('?', StringComparison.Ordinal) ? '&' : '?';
        return new Uri(_url + separator + "seq=" + seq.ToString(CultureInfo.InvariantCulture));
    }

    /// <summary>The display form (<see cref="Display"/>), never the secret.</summary>
    public override string ToString() => Display;

    public bool Equals(YouTubeIngestionUrl? other) => other is not null && string.Equals(_url, other._url, StringComparison.Ordinal);

    public override bool Equals(object? obj) => Equals(obj as YouTubeIngestionUrl);

    public override int GetHashCode() => StringComparer.Ordinal.GetHashCode(_url);

    /// <summary>The full URL, for the settings file that keeps it (never for logs).</summary>
    internal string Secret => _url;
}
