using System.Globalization;
using System.Text;

namespace CaptionSidecar.YouTube;

/// <summary>A finished caption line for YouTube: when it was spoken (UTC, the stream's offset added) and its text.</summary>
/// <param name="SpokenAt">When the line was spoken, on the wall clock (UTC), without the offset: what its age is measured from.</param>
/// <param name="Time">The time posted: <paramref name="SpokenAt"/> plus the stream's delay offset.</param>
/// <param name="Text">The text, one line (line breaks become <c>&lt;br&gt;</c> when posted).</param>
internal sealed record YouTubeLine(DateTimeOffset SpokenAt, DateTimeOffset Time, string Text);

/// <summary>
/// The body of one post in the format YouTube's caption ingestion documents: for each line a UTC time
/// (<c>yyyy-MM-ddTHH:mm:ss.fff</c>) on its own line, then the text on the next, <c>&lt;br&gt;</c> for a line break.
/// </summary>
internal static class YouTubeDocument
{
    /// <summary>The content type of every post.</summary>
    public const string ContentType = "text/plain; charset=utf-8";

    /// <summary>The time format: UTC, milliseconds, no zone suffix.</summary>
    public const string TimeFormat = "yyyy-MM-dd'T'HH:mm:ss.fff";

    /// <summary>The body for <paramref name="lines"/>, in their order.</summary>
    public static string Body(IEnumerable<YouTubeLine> lines)
    {
        ArgumentNullException.ThrowIfNull(lines);
        var body = new StringBuilder();
        foreach (var line in lines)
        {
            body.Append(line.Time.UtcDateTime.ToString(TimeFormat, CultureInfo.InvariantCulture)).Append('\n');
            body.Append(Text(line.Text)).Append('\n');
        }

        return body.ToString();
    }

    /// <summary>
    /// One caption text as posted: line breaks as <c>&lt;br&gt;</c>, other control characters as spaces, trimmed. An
    /// empty text is posted as nothing (callers skip it).
    /// </summary>
    public static string Text(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var normalised = text.ReplaceLineEndings("\n").Trim();
        var builder = new StringBuilder(normalised.Length);
        foreach (var c in normalised)
        {
            if (c == '\n')
            {
                builder.Append("<br>");
            }
            else
            {
                builder.Append(char.IsControl(c) ? ' ' : c);
            }
        }

        return builder.ToString();
    }
}
