using System.Globalization;
using System.Text.RegularExpressions;

namespace CaptionSidecar.Tests.EndToEnd;

/// <summary>A minimal SRT parser for checking transcripts.</summary>
internal static partial class SrtFile
{
    public sealed record Cue(int Index, TimeSpan Start, TimeSpan End, string Text);

    public static IReadOnlyList<Cue> Parse(string text)
    {
        var cues = new List<Cue>();
        var blocks = text.Replace("\r\n", "\n", StringComparison.Ordinal).Split("\n\n", StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        foreach (var block in blocks)
        {
            var lines = block.Split('\n');
            Assert.True(lines.Length >= 3, $"SRT cue needs index, times and text: '{block}'");
            var times = Times().Match(lines[1]);
            Assert.True(times.Success, $"Bad SRT time line: '{lines[1]}'");
            cues.Add(new Cue(
                int.Parse(lines[0], CultureInfo.InvariantCulture),
                TimeSpan.ParseExact(times.Groups[1].Value, @"hh\:mm\:ss\,fff", CultureInfo.InvariantCulture),
                TimeSpan.ParseExact(times.Groups[2].Value, @"hh\:mm\:ss\,fff", CultureInfo.InvariantCulture),
                string.Join(' ', lines[2..])));
        }

        return cues;
    }

    /// <summary>The transcript text with cues joined by spaces and whitespace folded.</summary>
    public static string JoinedText(IEnumerable<Cue> cues) => Spaces().Replace(string.Join(' ', cues.Select(c => c.Text)), " ").Trim();

    [GeneratedRegex(@"^(\d\d:\d\d:\d\d,\d\d\d) --> (\d\d:\d\d:\d\d,\d\d\d)$")]
    private static partial Regex Times();

    [GeneratedRegex(@"\s+")]
    private static partial Regex Spaces();
}
