using CaptionSidecar.Tracks;
using Microsoft.Extensions.Options;

namespace CaptionSidecar.Costs;

/// <summary>A running track's status and how long this run of it has lasted.</summary>
internal sealed record TrackUptime(TrackStatus Status, TimeSpan RunningFor);

/// <summary>What one caption language has cost, over every run of it since the sidecar started.</summary>
/// <param name="Language">The language code.</param>
/// <param name="Model">The model billed (the latest run's), or null for an engine that costs nothing.</param>
/// <param name="Usage">Tokens billed over every run.</param>
/// <param name="Cost">What they cost, or null when the model has no price configured.</param>
/// <param name="CostPerHour">Cost divided by the hours the language has run; null while it has run less than a minute, or without a price.</param>
/// <param name="Running">Whether the language runs now (only running languages count towards the hourly total).</param>
internal sealed record LanguageCost(string Language, string? Model, TokenUsage Usage, decimal? Cost, decimal? CostPerHour, bool Running);

/// <summary>The cost meter's reading.</summary>
/// <param name="Languages">Per language, in the order first seen.</param>
/// <param name="Total">What every language has cost so far.</param>
/// <param name="PerHour">The sum of the running languages' cost per hour: what the current set costs per hour of stream.</param>
/// <param name="Currency">The prices' currency.</param>
/// <param name="PricesAsOf">When the prices were last checked.</param>
internal sealed record CostReading(IReadOnlyList<LanguageCost> Languages, decimal Total, decimal PerHour, string Currency, string PricesAsOf);

/// <summary>
/// Turns the tokens each track reports (from <c>usage</c> in <c>response.done</c> and in transcription events) into
/// an estimate of what the stream costs: per language, cost = Σ tokens of each kind × that kind's price per million
/// / 1,000,000 (+ audio minutes × price per minute for duration-billed models), and cost per hour = cost / hours
/// the language has run. Stopped runs of a language are kept, so turning a language off and on does not reset it.
/// </summary>
internal sealed class CostMeter(IOptions<PricingOptions> options)
{
    /// <summary>Below this much running time an hourly rate is extrapolated from too little to mean anything.</summary>
    internal static readonly TimeSpan MinimumForRate = TimeSpan.FromMinutes(1);

    private readonly PricingOptions _prices = options.Value;
    private readonly Lock _gate = new();
    private readonly Dictionary<string, Finished> _finished = new(StringComparer.Ordinal);
    private readonly List<string> _order = [];

    /// <summary>Records a run of a track that ended (its final status and how long it ran).</summary>
    public void TrackEnded(TrackStatus status, TimeSpan ran)
    {
        ArgumentNullException.ThrowIfNull(status);
        var cost = CostOf(status.Model, status.Usage);
        lock (_gate)
        {
            Remember(status.Language);
            var before = _finished.GetValueOrDefault(status.Language) ?? new Finished(TokenUsage.None, 0m, TimeSpan.Zero, null, true);
            _finished[status.Language] = new Finished(
                before.Usage.Add(status.Usage),
                before.Cost + (cost ?? 0m),
                before.Ran + ran,
                status.Model ?? before.Model,
                before.Priced && cost is not null);
        }
    }

    /// <summary>The meter's reading, given the tracks running now.</summary>
    public CostReading Read(IReadOnlyList<TrackUptime> running)
    {
        ArgumentNullException.ThrowIfNull(running);
        var languages = new List<LanguageCost>();
        lock (_gate)
        {
            foreach (var run in running)
            {
                Remember(run.Status.Language);
            }

            foreach (var code in _order)
            {
                // Several tracks may run in one language at once (each speaker's transcription, a translation per
                // speaker): they are summed, and the language's running time is the longest of theirs.
                var past = _finished.GetValueOrDefault(code);
                var now = running.Where(r => r.Status.Language == code).ToList();
                var model = now.FirstOrDefault()?.Status.Model ?? past?.Model;
                var usage = now.Aggregate(past?.Usage ?? TokenUsage.None, (sum, r) => sum.Add(r.Status.Usage));
                var costs = now.Select(r => CostOf(r.Status.Model, r.Status.Usage)).ToList();
                decimal? cost = past is { Priced: false } || costs.Any(c => c is null) ? null : (past?.Cost ?? 0m) + costs.Sum(c => c!.Value);
                var ran = (past?.Ran ?? TimeSpan.Zero) + (now.Count == 0 ? TimeSpan.Zero : now.Max(r => r.RunningFor));
                decimal? perHour = cost is { } c && ran >= MinimumForRate ? c / (decimal)ran.TotalHours : null;
                languages.Add(new LanguageCost(code, model, usage, cost, perHour, now.Count > 0));
            }
        }

        return new CostReading(
            languages,
            languages.Sum(l => l.Cost ?? 0m),
            languages.Where(l => l.Running).Sum(l => l.CostPerHour ?? 0m),
            _prices.Currency,
            _prices.AsOf);
    }

    /// <summary>What <paramref name="usage"/> costs at <paramref name="model"/>'s prices; zero when nothing was used, null when the model has no price.</summary>
    public decimal? CostOf(string? model, TokenUsage usage)
    {
        ArgumentNullException.ThrowIfNull(usage);
        if (usage.TotalTokens == 0 && usage.AudioSeconds == 0)
        {
            return 0m;
        }

        if (PriceOf(model) is not { } price)
        {
            return null;
        }

        const decimal Million = 1_000_000m;
        return (usage.AudioInputTokens * price.AudioInput
                + usage.CachedAudioInputTokens * price.CachedAudioInput
                + usage.TextInputTokens * price.TextInput
                + usage.CachedTextInputTokens * price.CachedTextInput
                + usage.TextOutputTokens * price.TextOutput) / Million
            + (decimal)usage.AudioSeconds / 60m * price.AudioPerMinute;
    }

    /// <summary>The price of <paramref name="model"/>: the configured model with the longest name it starts with.</summary>
    public ModelPrice? PriceOf(string? model)
    {
        if (string.IsNullOrEmpty(model))
        {
            return null;
        }

        return _prices.Models
            .Where(p => model.StartsWith(p.Key, StringComparison.OrdinalIgnoreCase))
            .OrderByDescending(p => p.Key.Length)
            .Select(p => p.Value)
            .FirstOrDefault();
    }

    private void Remember(string code)
    {
        if (!_order.Contains(code))
        {
            _order.Add(code);
        }
    }

    private sealed record Finished(TokenUsage Usage, decimal Cost, TimeSpan Ran, string? Model, bool Priced);
}
