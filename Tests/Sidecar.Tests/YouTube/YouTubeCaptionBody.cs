using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;

namespace CaptionSidecar.Tests.YouTube;

/// <summary>One caption entry of a post body: its UTC time (millisecond precision), the optional region/cue that
/// followed the time, and the text line (with any <c>&lt;br&gt;</c> kept as sent).</summary>
/// <param name="Time">The entry's time, <see cref="DateTimeKind.Utc"/>.</param>
/// <param name="Region">What followed <c>region:</c> on the time line (e.g. <c>reg1#cue1</c>), or null.</param>
/// <param name="Text">The text line.</param>
public sealed record IngestedCaption(DateTime Time, string? Region, string Text);

/// <summary>
/// The body format of YouTube's "Closed Captions over HTTP" (answer 6077032), checked strictly: UTF-8 without a byte
/// order mark, lines alternating a time line <c>yyyy-MM-ddTHH:mm:ss.fff</c> (UTC, no zone suffix, optionally followed
/// by <c> region:reg1#cue1</c>) and a non-empty text line, times not decreasing, one optional newline at the end.
/// Pure: bytes in, entries and problems out.
/// </summary>
public static partial class YouTubeCaptionBody
{
    /// <summary>The time format of a time line, for <see cref="DateTime.ParseExact(string, string, IFormatProvider)"/>.</summary>
    public const string TimeFormat = "yyyy-MM-ddTHH:mm:ss.fff";

    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    /// <summary>Formats a UTC time as a time line (no region).</summary>
    /// <param name="time">The time; converted to UTC first.</param>
    public static string FormatTime(DateTimeOffset time) =>
        time.UtcDateTime.ToString(TimeFormat, CultureInfo.InvariantCulture);

    /// <summary>Decodes and parses a post body.</summary>
    /// <param name="body">The raw body.</param>
    /// <param name="text">The body as text (invalid UTF-8 replaced by U+FFFD, so it can still be shown).</param>
    /// <param name="problems">Receives one human-readable line per problem found.</param>
    /// <returns>The entries that parsed, in body order.</returns>
    public static IReadOnlyList<IngestedCaption> Parse(ReadOnlySpan<byte> body, out string text, List<string> problems)
    {
        ArgumentNullException.ThrowIfNull(problems);
        if (body.IsEmpty)
        {
            text = string.Empty;
            problems.Add("the body is empty (at least one time line and one text line are required)");
            return [];
        }

        try
        {
            text = StrictUtf8.GetString(body);
        }
        catch (DecoderFallbackException ex)
        {
            text = Encoding.UTF8.GetString(body);
            problems.Add(string.Create(CultureInfo.InvariantCulture, $"the body is not valid UTF-8 (bad byte at offset {ex.Index})"));
            return [];
        }

        if (text.StartsWith('\uFEFF'))
        {
            problems.Add("the body starts with a UTF-8 byte order mark");
            return [];
        }

        // One newline at the very end is fine; the lines before it must alternate time and text.
        var lines = text.Split('\n');
        var count = lines.Length;
        if (count > 1 && lines[^1].Length == 0)
        {
            count--;
        }

        var entries = new List<IngestedCaption>();
        DateTime? previous = null;
        for (var i = 0; i < count; i += 2)
        {
            var timeLine = TrimCarriageReturn(lines[i]);
            var lineNumber = i + 1;
            if (i + 1 >= count)
            {
                problems.Add(string.Create(CultureInfo.InvariantCulture, $"line {lineNumber} '{Show(timeLine)}' is a time line with no text line after it (odd line count {count})"));
                break;
            }

            var textLine = TrimCarriageReturn(lines[i + 1]);
            if (!TryParseTimeLine(timeLine, out var time, out var region, out var why))
            {
                problems.Add(string.Create(CultureInfo.InvariantCulture, $"line {lineNumber} '{Show(timeLine)}' is not a time line: {why}"));
                continue;
            }

            if (string.IsNullOrWhiteSpace(textLine))
            {
                problems.Add(string.Create(CultureInfo.InvariantCulture, $"line {lineNumber + 1} (text after {Show(timeLine)}) is empty"));
                continue;
            }

            if (textLine.Contains('\r', StringComparison.Ordinal))
            {
                problems.Add(string.Create(CultureInfo.InvariantCulture, $"line {lineNumber + 1} contains a carriage return inside the text (use <br> for a line break)"));
            }

            if (previous is { } before && time < before)
            {
                problems.Add($"time {FormatTime(time)} on line {lineNumber.ToString(CultureInfo.InvariantCulture)} is earlier than the entry before it ({FormatTime(before)})");
            }

            previous = time;
            entries.Add(new IngestedCaption(time, region, textLine));
        }

        return entries;
    }

    /// <summary>Parses one time line: the exact time format, then optionally <c> region:</c> and a non-empty word.</summary>
    /// <param name="line">The line without its newline.</param>
    /// <param name="time">The UTC time.</param>
    /// <param name="region">What followed <c>region:</c>, or null.</param>
    /// <param name="why">Why the line is not a time line.</param>
    public static bool TryParseTimeLine(string line, out DateTime time, out string? region, out string why)
    {
        ArgumentNullException.ThrowIfNull(line);
        time = default;
        region = null;
        var match = TimeLinePattern().Match(line);
        if (!match.Success)
        {
            why = $"expected {TimeFormat} (UTC, no zone suffix) optionally followed by ' region:reg1#cue1'";
            return false;
        }

        if (!DateTime.TryParseExact(
                match.Groups["time"].Value,
                TimeFormat,
                CultureInfo.InvariantCulture,
                DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal,
                out time))
        {
            why = "the date or time is out of range";
            return false;
        }

        region = match.Groups["region"].Success ? match.Groups["region"].Value : null;
        why = string.Empty;
        return true;
    }

    private static string TrimCarriageReturn(string line) => line.EndsWith('\r') ? line[..^1] : line;

    private static string Show(string line) => line.Length <= 60 ? line : line[..60] + "…";

    private static string FormatTime(DateTime time) => time.ToString(TimeFormat, CultureInfo.InvariantCulture);

    [GeneratedRegex(@"^(?<time>[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3})(?: region:(?<region>\S+))?$", RegexOptions.CultureInvariant)]
    private static partial Regex TimeLinePattern();
}
