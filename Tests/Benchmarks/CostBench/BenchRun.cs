namespace CaptionSidecar.Benchmarks.CostBench;

/// <summary>One configuration of the cost bench: how the sidecar translates, into which languages, with which target model.</summary>
/// <param name="Mode"><c>audio</c> or <c>text</c> (<c>--translate-from</c>).</param>
/// <param name="Languages">The targets (<c>--languages</c>), for example <c>es,fr,de</c>.</param>
/// <param name="TargetModel">The translations' model: <c>--translate-model</c> in audio mode, <c>--text-translate-model</c> in text mode.</param>
/// <param name="Paced">True for a latency run (the sidecar reads the file in real time); false for a cost run.</param>
/// <param name="Speed">
/// A cost run's input speed, in times real time: the file is written into a FIFO at that speed and the sidecar reads it
/// unpaced (<c>--no-pacing</c>). Not as fast as possible: with every turn of ten minutes committed at once, an audio
/// translation's bounded conversation holds only turns still waiting and deletes the translated ones, so responses lose
/// their context and the run understates what a live stream costs.
/// </param>
internal sealed record BenchRun(string Mode, string Languages, string TargetModel, bool Paced, double Speed = 1)
{
    /// <summary>The target language codes.</summary>
    public IReadOnlyList<string> Targets => Languages.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    /// <summary>How the table names the configuration.</summary>
    public string Name => $"{Mode}: en + {Targets.Count} ({Languages})";

    /// <summary>A folder name for the run's files.</summary>
    public string Slug => $"{(Paced ? "latency" : "cost")}-{Mode}-{Languages.Replace(',', '-')}-{TargetModel}";

    /// <summary>The sidecar's options that select this configuration.</summary>
    public IEnumerable<string> SidecarArguments()
    {
        yield return "--languages";
        yield return Languages;
        yield return "--translate-from";
        yield return Mode;
        yield return Mode == "text" ? "--text-translate-model" : "--translate-model";
        yield return TargetModel;
        if (!Paced)
        {
            yield return "--no-pacing";
            if (Mode == "text")
            {
                // Sped-up input must not make the lag limit skip translations a live stream would show.
                yield return "--translation-lag";
                yield return "600";
            }
        }
    }
}

/// <summary>Tokens and cost of one language as the sidecar's cost meter read them (<c>/api/status</c> <c>costs.languages</c>).</summary>
internal sealed record MeteredLanguage(string Language, string? Model, long AudioInputTokens, long CachedInputTokens, long TextInputTokens, long OutputTokens, decimal? Cost);

/// <summary>What one run measured.</summary>
/// <param name="Run">The configuration.</param>
/// <param name="Failure">Why the run gave no figures, or null.</param>
/// <param name="Meter">The sidecar's cost meter at its last reading before it exited, per language.</param>
/// <param name="FakeBilledCost">The same prices applied to every <c>usage</c> the fake sent: a check that the meter's last reading missed nothing.</param>
/// <param name="AudioSeconds">Length of the speech: a cost run's section before the silent tail, a latency run's whole file.</param>
/// <param name="Wall">How long the sidecar ran.</param>
/// <param name="LinesPerLanguage">Final lines in each language's JSONL transcript.</param>
/// <param name="Latency">Latency figures (paced runs), or null.</param>
/// <param name="ContextItems">The average number of items in a translation response's context (the fake's view): 5 when every translation saw the two sentences before it with their translations.</param>
internal sealed record BenchOutcome(
    BenchRun Run,
    string? Failure,
    IReadOnlyList<MeteredLanguage> Meter,
    decimal FakeBilledCost,
    double AudioSeconds,
    TimeSpan Wall,
    IReadOnlyDictionary<string, int> LinesPerLanguage,
    LatencyFigures? Latency,
    double ContextItems)
{
    /// <summary>The meter's total over every language.</summary>
    public decimal Total => Meter.Sum(l => l.Cost ?? 0m);

    /// <summary>What an hour of this speech costs: the total scaled from the file's length to an hour.</summary>
    public decimal PerHour => AudioSeconds > 0 ? Total * 3600m / (decimal)AudioSeconds : 0m;
}
