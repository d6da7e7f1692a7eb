using System.Globalization;
using System.Text.Json;

namespace CaptionSidecar.Benchmarks.CostBench;

/// <summary>A sentence of the speech file: where it is spoken (seconds from the start of the file).</summary>
internal sealed record SpeechTurn(int Number, double StartSeconds, double EndSeconds)
{
    /// <summary>The end of the speech section (last sentence and its pause, before the silent tail): the timing file's <c>end</c> line, else null.</summary>
    public static double? SectionEnd(string path) =>
        File.ReadLines(path).Select(l => l.Split('\t')).Where(c => c.Length == 2 && c[0] == "end")
            .Select(c => (double?)double.Parse(c[1], CultureInfo.InvariantCulture)).LastOrDefault();

    /// <summary>Reads the timing file the bench script writes: a line <c>turn start end</c> (tab-separated, seconds) per sentence.</summary>
    public static IReadOnlyList<SpeechTurn> Read(string path) =>
    [
        .. File.ReadLines(path)
            .Where(l => l.Trim().Length > 0 && char.IsDigit(l[0]))
            .Select(l => l.Split('\t'))
            .Select(c => new SpeechTurn(
                int.Parse(c[0], CultureInfo.InvariantCulture),
                double.Parse(c[1], CultureInfo.InvariantCulture),
                double.Parse(c[2], CultureInfo.InvariantCulture))),
    ];
}

/// <summary>p50 and p99 of a set of latencies (nearest rank), in milliseconds.</summary>
internal sealed record Percentiles(int Count, double P50Ms, double P99Ms)
{
    public static Percentiles? Of(IEnumerable<double> values)
    {
        var sorted = values.Order().ToArray();
        if (sorted.Length == 0)
        {
            return null;
        }

        double Rank(double p) => sorted[Math.Clamp((int)Math.Ceiling(p * sorted.Length) - 1, 0, sorted.Length - 1)];
        return new Percentiles(sorted.Length, Rank(0.50), Rank(0.99));
    }

    public override string ToString() =>
        string.Create(CultureInfo.InvariantCulture, $"{P50Ms / 1000:0.00} s / {P99Ms / 1000:0.00} s");
}

/// <summary>
/// Latencies of a paced run, read from the JSONL transcripts (each final line's <c>item_id</c>, its
/// <c>start_ms</c>/<c>end_ms</c> on the audio timeline and the <c>wall_time</c> it became final):
/// <list type="bullet">
/// <item>speech end to source final: from the end of a sentence in the file (the input opened at
/// <c>input.since</c> and is read in real time) to its source line's wall time;</item>
/// <item>speech end to translation final: the same, to the target line's wall time (the line is matched to its sentence
/// by its place on the audio timeline);</item>
/// <item>source final to translation final (text mode): the target line and the source line share the item id.</item>
/// </list>
/// </summary>
internal sealed record LatencyFigures(Percentiles? SpeechEndToSourceFinal, Percentiles? SpeechEndToTranslationFinal, Percentiles? SourceFinalToTranslationFinal)
{
    public static LatencyFigures Measure(string transcriptDirectory, IReadOnlyList<SpeechTurn> turns, DateTimeOffset audioStart, string source, string target)
    {
        var sourceLines = Read(transcriptDirectory, source);
        var targetLines = Read(transcriptDirectory, target);
        double FromSpeechEnd(TranscriptEntry line) =>
            (line.WallTime - audioStart).TotalMilliseconds - (TurnOf(turns, line).EndSeconds * 1000);

        var bySourceItem = sourceLines.GroupBy(l => l.ItemId, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.First(), StringComparer.Ordinal);
        return new LatencyFigures(
            Percentiles.Of(sourceLines.Select(FromSpeechEnd)),
            Percentiles.Of(targetLines.Select(FromSpeechEnd)),
            Percentiles.Of(targetLines
                .Where(l => bySourceItem.ContainsKey(l.ItemId))
                .Select(l => (l.WallTime - bySourceItem[l.ItemId].WallTime).TotalMilliseconds)));
    }

    /// <summary>The final lines of one language's JSONL transcripts in <paramref name="directory"/>.</summary>
    public static IReadOnlyList<TranscriptEntry> Read(string directory, string language)
    {
        if (!Directory.Exists(directory))
        {
            return [];
        }

        var lines = new List<TranscriptEntry>();
        foreach (var file in Directory.GetFiles(directory, $"*-{language}.jsonl").Order(StringComparer.Ordinal))
        {
            foreach (var text in File.ReadLines(file).Where(l => l.Trim().Length > 0))
            {
                using var json = JsonDocument.Parse(text);
                var root = json.RootElement;
                lines.Add(new TranscriptEntry(
                    root.GetProperty("item_id").GetString() ?? "",
                    root.GetProperty("start_ms").GetInt64(),
                    root.GetProperty("end_ms").GetInt64(),
                    root.GetProperty("wall_time").GetDateTimeOffset()));
            }
        }

        return lines;
    }

    /// <summary>The sentence a line captions: the one its midpoint falls in, else the nearest (by the line's place on the timeline, not its text).</summary>
    private static SpeechTurn TurnOf(IReadOnlyList<SpeechTurn> turns, TranscriptEntry line)
    {
        var middle = (line.StartMs + line.EndMs) / 2000.0;
        return turns.MinBy(t => middle < t.StartSeconds ? t.StartSeconds - middle : middle > t.EndSeconds ? middle - t.EndSeconds : 0)!;
    }
}

/// <summary>One final line of a JSONL transcript, as far as latency needs it.</summary>
internal sealed record TranscriptEntry(string ItemId, long StartMs, long EndMs, DateTimeOffset WallTime);
