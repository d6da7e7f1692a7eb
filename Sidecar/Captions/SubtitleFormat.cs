using System.Globalization;
using System.Text;

namespace CaptionSidecar.Captions;

/// <summary>Time stamps, escaping, wrapping and cue timing shared by the subtitle files and the console.</summary>
internal static class SubtitleFormat
{
    /// <summary>
    /// The shortest a cue is shown. A one-word turn can be a few hundred milliseconds long, too short to read; the
    /// next cue's start is not known when a cue is written (each is appended as it becomes final), so a cue is
    /// only extended to this length and may overlap the next, which SRT and WebVTT players stack.
    /// </summary>
    public static readonly TimeSpan MinimumCueDuration = TimeSpan.FromMilliseconds(500);

    /// <summary>SRT time stamp <c>hh:mm:ss,mmm</c>, rounded to the millisecond; negative times are shown as zero.</summary>
    public static string SrtTime(TimeSpan time) => Format(time, ',');

    /// <summary>WebVTT time stamp <c>hh:mm:ss.mmm</c>, rounded to the millisecond; negative times are shown as zero.</summary>
    public static string VttTime(TimeSpan time) => Format(time, '.');

    /// <summary>Console time stamp <c>hh:mm:ss.f</c>, rounded to the tenth of a second.</summary>
    public static string ConsoleTime(TimeSpan time)
    {
        var tenths = (long)Math.Round(Math.Max(0, time.TotalMilliseconds) / 100, MidpointRounding.AwayFromZero);
        var seconds = tenths / 10;
        return string.Create(CultureInfo.InvariantCulture, $"{seconds / 3600:00}:{seconds / 60 % 60:00}:{seconds % 60:00}.{tenths % 10}");
    }

    /// <summary>Milliseconds from the start of audio, rounded; negative times are zero.</summary>
    public static long Milliseconds(TimeSpan time) => (long)Math.Round(Math.Max(0, time.TotalMilliseconds), MidpointRounding.AwayFromZero);

    /// <summary>
    /// The times a cue is written with: never negative, never starting before the previous cue, and at least
    /// <see cref="MinimumCueDuration"/> long.
    /// </summary>
    public static (TimeSpan Start, TimeSpan End) CueTimes(TimeSpan start, TimeSpan end, TimeSpan previousStart)
    {
        var cueStart = Max(Max(start, TimeSpan.Zero), previousStart);
        var cueEnd = Max(end, cueStart + MinimumCueDuration);
        return (cueStart, cueEnd);
    }

    /// <summary>Escapes the characters WebVTT cue text reserves (<c>&amp;</c>, <c>&lt;</c>, <c>&gt;</c>).</summary>
    public static string EscapeVtt(string text) =>
        text.Replace("&", "&amp;", StringComparison.Ordinal)
            .Replace("<", "&lt;", StringComparison.Ordinal)
            .Replace(">", "&gt;", StringComparison.Ordinal);

    /// <summary>
    /// Escapes a WebVTT voice span's annotation (<c>&lt;v Name&gt;</c>): the reserved characters as in cue text, so
    /// a <c>&gt;</c> in a name cannot end the tag, and whitespace (a line break would end the cue) folded to spaces.
    /// </summary>
    public static string EscapeVttAnnotation(string name) =>
        EscapeVtt(string.Join(' ', name.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries)));

    /// <summary>
    /// Whether display line <paramref name="index"/> starts a speaker block: it has a speaker, and the line before it
    /// (if any) has another one or none. Such a line is where a text output prints the speaker's label.
    /// </summary>
    public static bool StartsBlock(IReadOnlyList<CaptionLine> lines, int index) =>
        lines[index].Speaker is { } speaker && (index == 0 || !SameSpeaker(lines[index - 1].Speaker, speaker));

    /// <summary>Whether two lines belong to the same speaker (the unnamed one included).</summary>
    public static bool SameSpeaker(SpeakerLabel? a, SpeakerLabel? b) => string.Equals(a?.Name, b?.Name, StringComparison.Ordinal);

    /// <summary>
    /// The displayed text with labels: the lines joined by a newline, each speaker block's first line led by
    /// <c>Name: </c>. Without speakers it is exactly <see cref="CaptionUpdate.DisplayText"/>.
    /// </summary>
    public static string LabelledText(IReadOnlyList<CaptionLine> lines)
    {
        var text = new StringBuilder();
        for (var i = 0; i < lines.Count; i++)
        {
            if (i > 0)
            {
                text.Append('\n');
            }

            if (StartsBlock(lines, i))
            {
                text.Append(lines[i].Speaker!.Prefix);
            }

            text.Append(lines[i].Text);
        }

        return text.ToString();
    }

    /// <summary>
    /// Wraps <paramref name="text"/> into lines of at most <paramref name="maxCharacters"/> text elements, breaking
    /// at spaces. Whitespace (including line breaks, which would end a cue) folds to single spaces. A word longer
    /// than a line (a long compound, or Japanese written without spaces) is cut into line-sized pieces.
    /// </summary>
    public static IReadOnlyList<string> Wrap(string text, int maxCharacters)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxCharacters, 1);
        var lines = new List<string>();
        var line = new StringBuilder();
        var lineLength = 0;
        foreach (var word in text.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries))
        {
            foreach (var piece in Pieces(word, maxCharacters))
            {
                var pieceLength = new StringInfo(piece).LengthInTextElements;
                if (lineLength > 0 && lineLength + 1 + pieceLength > maxCharacters)
                {
                    lines.Add(line.ToString());
                    line.Clear();
                    lineLength = 0;
                }

                if (lineLength > 0)
                {
                    line.Append(' ');
                    lineLength++;
                }

                line.Append(piece);
                lineLength += pieceLength;
            }
        }

        if (lineLength > 0)
        {
            lines.Add(line.ToString());
        }

        return lines;
    }

    private static IEnumerable<string> Pieces(string word, int maxCharacters)
    {
        var info = new StringInfo(word);
        if (info.LengthInTextElements <= maxCharacters)
        {
            yield return word;
            yield break;
        }

        for (var i = 0; i < info.LengthInTextElements; i += maxCharacters)
        {
            yield return info.SubstringByTextElements(i, Math.Min(maxCharacters, info.LengthInTextElements - i));
        }
    }

    private static string Format(TimeSpan time, char separator)
    {
        var ms = Milliseconds(time);
        var seconds = ms / 1000;
        return string.Create(CultureInfo.InvariantCulture, $"{seconds / 3600:00}:{seconds / 60 % 60:00}:{seconds % 60:00}{separator}{ms % 1000:000}");
    }

    private static TimeSpan Max(TimeSpan a, TimeSpan b) => a > b ? a : b;
}
