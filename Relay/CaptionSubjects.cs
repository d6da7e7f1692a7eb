using System.Text.RegularExpressions;

namespace CaptionSidecar.Relay;

/// <summary>
/// Where captions live on NATS (docs/relay.md): the key-value bucket <see cref="Bucket"/>, one key per stream and
/// language, <c>STREAM.LANG</c>, so its subject is <c>$KV.captions.STREAM.LANG</c>. The sidecar publishes each update to
/// that subject; the bucket keeps the last one per key (the current line for a relay or viewer that joins later).
/// Stream names are letters, digits and dashes; both names are lower-cased.
/// </summary>
public static partial class CaptionSubjects
{
    /// <summary>The key-value bucket holding the current caption state of every stream and language.</summary>
    public const string Bucket = "captions";

    /// <summary>The JetStream stream behind <see cref="Bucket"/>.</summary>
    public const string BucketStream = "KV_" + Bucket;

    /// <summary>The NATS header that says what an update did (<see cref="CaptionUpdateKinds"/>).</summary>
    public const string KindHeader = "Caption-Kind";

    /// <summary>Largest caption payload published or accepted, in bytes.</summary>
    public const int MaxPayloadBytes = 64 * 1024;

    /// <summary>Longest stream name.</summary>
    public const int MaxStreamLength = 64;

    /// <summary>True when <paramref name="name"/> is a valid stream name (1 to 64 letters, digits, dashes).</summary>
    public static bool IsValidStream(string? name) => name is not null && StreamPattern().IsMatch(name);

    /// <summary>True when <paramref name="code"/> is a language code as the sidecar uses them (for example <c>en</c>, <c>pt-br</c>).</summary>
    public static bool IsValidLanguage(string? code) => code is not null && LanguagePattern().IsMatch(code);

    /// <summary>The bucket key of one stream's language: <c>stream.lang</c>.</summary>
    public static string Key(string stream, string language)
    {
        if (!IsValidStream(stream))
        {
            throw new ArgumentException($"'{stream}' is not a stream name: use 1 to {MaxStreamLength} letters, digits and dashes.", nameof(stream));
        }

        if (!IsValidLanguage(language))
        {
            throw new ArgumentException($"'{language}' is not a language code (letters, digits and dashes, for example en or pt-br).", nameof(language));
        }

        return $"{stream.ToLowerInvariant()}.{language.ToLowerInvariant()}";
    }

    /// <summary>The subject a publisher sends one stream's language to: <c>$KV.captions.stream.lang</c>.</summary>
    public static string Subject(string stream, string language) => $"$KV.{Bucket}.{Key(stream, language)}";

    /// <summary>Splits a bucket key back into stream and language; false for anything else.</summary>
    public static bool TryParseKey(string key, out string stream, out string language)
    {
        stream = language = string.Empty;
        var dot = key.IndexOf('.', StringComparison.Ordinal);
        if (dot <= 0 || dot != key.LastIndexOf('.') || !IsValidStream(key[..dot]) || !IsValidLanguage(key[(dot + 1)..]))
        {
            return false;
        }

        stream = key[..dot].ToLowerInvariant();
        language = key[(dot + 1)..].ToLowerInvariant();
        return true;
    }

    /// <summary>
    /// A stream name made from <paramref name="machineName"/>: lower-cased, anything but letters and digits turned
    /// into dashes, runs of dashes and dashes at either end removed, at most 64 characters; "stream" when nothing is left.
    /// </summary>
    public static string StreamFromMachine(string machineName)
    {
        ArgumentNullException.ThrowIfNull(machineName);
        var dashed = NotAlphanumeric().Replace(machineName.ToLowerInvariant(), "-").Trim('-');
        if (dashed.Length > MaxStreamLength)
        {
            dashed = dashed[..MaxStreamLength].TrimEnd('-');
        }

        return dashed.Length == 0 ? "stream" : dashed;
    }

    [GeneratedRegex("^[A-Za-z0-9-]{1,64}$")]
    private static partial Regex StreamPattern();

    [GeneratedRegex("^[A-Za-z0-9]{1,8}(-[A-Za-z0-9]{1,8}){0,2}$")]
    private static partial Regex LanguagePattern();

    [GeneratedRegex("[^a-z0-9]+")]
    private static partial Regex NotAlphanumeric();
}

/// <summary>The values of <see cref="CaptionSubjects.KindHeader"/>.</summary>
public static class CaptionUpdateKinds
{
    /// <summary>Only the tentative tail changed: a relay may coalesce it with the next one.</summary>
    public const string Tentative = "tentative";

    /// <summary>At least one line became final: always forwarded.</summary>
    public const string Final = "final";

    /// <summary>The captions were cleared after silence (the language is still on).</summary>
    public const string Cleared = "cleared";

    /// <summary>The language was turned off (or the sidecar stopped): it is no longer live.</summary>
    public const string Closed = "closed";
}
