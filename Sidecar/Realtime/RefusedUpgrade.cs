using System.Globalization;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.WebUtilities;

namespace CaptionSidecar.Realtime;

/// <summary>
/// The HTTP error a Realtime endpoint answered a WebSocket upgrade with: the status, the wait it asked for, and the
/// sentence its body gave (OpenAI sends <c>{"error":{"message":…,"type":…,"code":…}}</c>).
/// </summary>
/// <param name="StatusCode">The HTTP status.</param>
/// <param name="RetryAfter">The <c>Retry-After</c> header as a wait from now, if the service sent one.</param>
/// <param name="ServiceMessage">The service's error message (one line, bounded, the API key masked), if it gave one.</param>
internal sealed record RefusedUpgrade(int StatusCode, TimeSpan? RetryAfter, string? ServiceMessage)
{
    /// <summary>Longest service message kept, in characters: enough for OpenAI's sentences, not for a page of HTML.</summary>
    private const int MaxMessageChars = 300;

    /// <summary>The status with its name, for example "429 Too Many Requests".</summary>
    public string StatusText => ReasonPhrases.GetReasonPhrase(StatusCode) is { Length: > 0 } phrase
        ? $"{StatusCode.ToString(CultureInfo.InvariantCulture)} {phrase}"
        : StatusCode.ToString(CultureInfo.InvariantCulture);

    /// <summary>Reads a refused upgrade's answer; <paramref name="body"/> is the start of its body.</summary>
    public static RefusedUpgrade From(HttpResponseMessage response, ReadOnlySpan<byte> body, DateTimeOffset now, string apiKey)
    {
        ArgumentNullException.ThrowIfNull(response);
        return new RefusedUpgrade((int)response.StatusCode, Wait(response.Headers.RetryAfter, now), Message(body, response.Content.Headers.ContentType?.MediaType, apiKey));
    }

    /// <summary>A <c>Retry-After</c> of seconds or of a date, as a wait from <paramref name="now"/> (never negative).</summary>
    internal static TimeSpan? Wait(RetryConditionHeaderValue? retryAfter, DateTimeOffset now)
    {
        var wait = retryAfter switch
        {
            { Delta: { } delta } => delta,
            { Date: { } date } => date - now,
            _ => (TimeSpan?)null,
        };
        return wait is { } w && w < TimeSpan.Zero ? TimeSpan.Zero : wait;
    }

    /// <summary>
    /// The sentence of an error body: <c>error.message</c> (with <c>error.code</c>) of a JSON body, or a plain-text body;
    /// nothing for other bodies (an HTML error page says nothing a log line should carry).
    /// </summary>
    internal static string? Message(ReadOnlySpan<byte> body, string? mediaType, string apiKey)
    {
        if (body.IsEmpty)
        {
            return null;
        }

        string? text = null;
        try
        {
            var reader = new Utf8JsonReader(body);
            using var document = JsonDocument.ParseValue(ref reader);
            if (document.RootElement.ValueKind == JsonValueKind.Object
                && document.RootElement.TryGetProperty("error", out var error)
                && error.ValueKind == JsonValueKind.Object
                && error.TryGetProperty("message", out var message)
                && message.ValueKind == JsonValueKind.String)
            {
                text = message.GetString();
                if (error.TryGetProperty("code", out var code) && code.ValueKind == JsonValueKind.String && code.GetString() is { Length: > 0 } c)
                {
                    text += $" ({c})";
                }
            }
        }
        catch (JsonException)
        {
            if (mediaType is "text/plain")
            {
                text = Encoding.UTF8.GetString(body);
            }
        }

        return OneLine(text, apiKey);
    }

    private static string? OneLine(string? text, string apiKey)
    {
        if (string.IsNullOrWhiteSpace(text))
        {
            return null;
        }

        if (apiKey.Length > 0)
        {
            // A service may echo the key it refused; the log must not carry it.
            text = text.Replace(apiKey, "***", StringComparison.Ordinal);
        }

        var line = new StringBuilder(Math.Min(text.Length, MaxMessageChars + 1));
        foreach (var ch in text)
        {
            var c = char.IsControl(ch) || char.IsWhiteSpace(ch) ? ' ' : ch;
            if (c == ' ' && (line.Length == 0 || line[^1] == ' '))
            {
                continue;
            }

            if (line.Length == MaxMessageChars)
            {
                line.Append('…');
                break;
            }

            line.Append(c);
        }

        var result = line.ToString().TrimEnd();
        return result.Length > 0 ? result : null;
    }
}
