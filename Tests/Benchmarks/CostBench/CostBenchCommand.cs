using System.Globalization;
using System.Text;

namespace CaptionSidecar.Benchmarks.CostBench;

/// <summary>
/// The cost and latency bench of issue 11 (<c>--cost-bench WORK SIDECAR_DLL [--modes audio,text] [--no-latency]</c>,
/// run by <c>scripts/cost-bench.sh</c>, which writes WORK's speech, timing and script files). Cost runs: each mode,
/// source plus 1 (<c>es</c>) and plus 3 (<c>es,fr,de</c>) targets, <c>gpt-realtime</c> and <c>gpt-realtime-mini</c>
/// targets, the whole speech file unpaced. Latency runs: each mode, <c>es</c>, the short speech file in real time.
/// Prints a Markdown report (also written to WORK/report.md); exit status 1 when a run failed.
/// </summary>
internal static class CostBenchCommand
{
    private static readonly string[] Models = ["gpt-realtime", "gpt-realtime-mini"];
    private static readonly string[] LanguageSets = ["es", "es,fr,de"];

    public static async Task<int> RunAsync(string[] args)
    {
        if (args.Length < 3)
        {
            await Console.Error.WriteLineAsync("usage: Benchmarks --cost-bench WORK SIDECAR_DLL [--modes audio,text] [--no-latency] [--speed N] [--only SLUG-PART]");
            return 2;
        }

        var work = Path.GetFullPath(args[1]);
        var files = new BenchFiles(Path.GetFullPath(args[2]), work, Path.Combine(work, "script.tsv"));
        var modesAt = Array.IndexOf(args, "--modes");
        var modes = modesAt > 0 && modesAt + 1 < args.Length ? args[modesAt + 1].Split(',', StringSplitOptions.RemoveEmptyEntries) : ["audio", "text"];
        var latency = !args.Contains("--no-latency");
        var speech = Path.Combine(work, "speech.wav");
        var shortSpeech = Path.Combine(work, "speech-short.wav");
        var turns = SpeechTurn.Read(Path.Combine(work, "timing.tsv"));
        var shortTurns = SpeechTurn.Read(Path.Combine(work, "timing-short.tsv"));

        using var interrupt = new CancellationTokenSource();
        Console.CancelKeyPress += (_, e) =>
        {
            e.Cancel = true;
            interrupt.Cancel();
        };

        var speedAt = Array.IndexOf(args, "--speed");
        var speed = speedAt > 0 && speedAt + 1 < args.Length ? double.Parse(args[speedAt + 1], CultureInfo.InvariantCulture) : 8;
        var runs = modes.SelectMany(mode => LanguageSets.SelectMany(languages => Models.Select(model => new BenchRun(mode, languages, model, Paced: false, speed))))
            .Concat(latency ? modes.Select(mode => new BenchRun(mode, "es", mode == "text" ? "gpt-realtime-mini" : "gpt-realtime", Paced: true)) : [])
            .ToList();
        var onlyAt = Array.IndexOf(args, "--only");
        if (onlyAt > 0 && onlyAt + 1 < args.Length)
        {
            runs = [.. runs.Where(r => r.Slug.Contains(args[onlyAt + 1], StringComparison.Ordinal))];
        }

        var outcomes = new List<BenchOutcome>();
        var speechSeconds = SpeechTurn.SectionEnd(Path.Combine(work, "timing.tsv")) ?? SidecarBenchRun.WavSeconds(speech);
        foreach (var run in runs)
        {
            await Console.Error.WriteLineAsync($"[cost-bench] {DateTime.UtcNow:HH:mm:ss} {run.Slug} ...");
            var outcome = await SidecarBenchRun.RunAsync(run, files, run.Paced ? shortSpeech : speech, run.Paced ? shortTurns : turns, interrupt.Token);
            outcome = outcome with { AudioSeconds = run.Paced ? outcome.AudioSeconds : speechSeconds };
            outcomes.Add(outcome);
            await Console.Error.WriteLineAsync(outcome.Failure is { } failure
                ? $"[cost-bench]   FAILED: {failure}"
                : string.Create(CultureInfo.InvariantCulture, $"[cost-bench]   {outcome.Wall.TotalSeconds:0} s, ${outcome.Total:0.0000} (${outcome.PerHour:0.00}/h)"));
        }

        var report = Report(outcomes, turns, speechSeconds, shortTurns, SidecarBenchRun.WavSeconds(shortSpeech));
        await File.WriteAllTextAsync(Path.Combine(work, "report.md"), report);
        Console.Write(report);
        return outcomes.All(o => o.Failure is null) ? 0 : 1;
    }

    private static string Report(List<BenchOutcome> outcomes, IReadOnlyList<SpeechTurn> turns, double seconds, IReadOnlyList<SpeechTurn> shortTurns, double shortSeconds)
    {
        var inv = CultureInfo.InvariantCulture;
        var text = new StringBuilder();
        var speaking = turns.Sum(t => t.EndSeconds - t.StartSeconds);
        var speed = outcomes.FirstOrDefault(o => !o.Run.Paced)?.Run.Speed ?? 1;
        text.AppendLine(inv, $"Cost bench {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC: {seconds / 60:0.0} min of espeak-ng speech, {turns.Count} sentences, speech {100 * speaking / seconds:0}% of the time, fed at {speed:0.#}x real time; source gpt-4o-transcribe; fake Realtime server (usage as the service counts it), default prices.")
            .AppendLine()
            .AppendLine("| Configuration | Target model | Audio in | Cached in | Text in | Output | Cost of the run | Per hour | Fake billed | Context items | Final lines (en/targets) |")
            .AppendLine("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---|");
        foreach (var o in outcomes.Where(o => !o.Run.Paced))
        {
            if (o.Failure is not null)
            {
                text.AppendLine(inv, $"| {o.Run.Name} | {o.Run.TargetModel} | | | | | | | | | FAILED: {o.Failure} |");
                continue;
            }

            text.AppendLine(inv, $"| {o.Run.Name} | {o.Run.TargetModel} | {o.Meter.Sum(l => l.AudioInputTokens):N0} | {o.Meter.Sum(l => l.CachedInputTokens):N0} | "
                + $"{o.Meter.Sum(l => l.TextInputTokens):N0} | {o.Meter.Sum(l => l.OutputTokens):N0} | ${o.Total:0.000} | **${o.PerHour:0.00}** | ${o.FakeBilledCost:0.000} | "
                + $"{o.ContextItems:0.0} | {string.Join('/', o.LinesPerLanguage.Values)} of {turns.Count} |");
        }

        text.AppendLine()
            .AppendLine("Per language (tokens audio in / cached in / text in / out, cost of the run):")
            .AppendLine();
        foreach (var o in outcomes.Where(o => !o.Run.Paced && o.Failure is null))
        {
            var languages = string.Join("; ", o.Meter.Select(l =>
                string.Create(inv, $"{l.Language} ({l.Model}) {l.AudioInputTokens:N0} / {l.CachedInputTokens:N0} / {l.TextInputTokens:N0} / {l.OutputTokens:N0}, ${l.Cost ?? 0m:0.0000}")));
            text.AppendLine(inv, $"- {o.Run.Name}, {o.Run.TargetModel}: {languages}");
        }

        var paced = outcomes.Where(o => o.Run.Paced).ToList();
        if (paced.Count > 0)
        {
            text.AppendLine()
                .AppendLine(inv, $"Latency, one paced run each ({shortSeconds / 60:0.0} min of the speech in real time, {shortTurns.Count} sentences), p50 / p99:")
                .AppendLine()
                .AppendLine("| Mode | Target (model) | Speech end to source final | Speech end to translation final | Source final to translation final |")
                .AppendLine("|---|---|---|---|---|");
            foreach (var o in paced)
            {
                var cells = o.Latency is { } l
                    ? $"{Cell(l.SpeechEndToSourceFinal)} | {Cell(l.SpeechEndToTranslationFinal)} | {(o.Run.Mode == "text" ? Cell(l.SourceFinalToTranslationFinal) : "(different items)")}"
                    : $"FAILED: {o.Failure} | | ";
                text.AppendLine(inv, $"| {o.Run.Mode} | {o.Run.Languages} ({o.Run.TargetModel}) | {cells} |");
            }
        }

        text.AppendLine()
            .AppendLine("Per hour = the run's cost scaled from the speech's length (before the silent tail) to an hour of the same speech. Fake billed = every usage the fake sent, "
                + "priced the same way (the meter's last reading before exit should match it). Context items = items in a translation "
                + "response's context on average (5: the two sentences before it with their translations, then its own).");
        return text.ToString();
    }

    private static string Cell(Percentiles? p) => p is null ? "none" : string.Create(CultureInfo.InvariantCulture, $"{p} (n={p.Count})");
}
