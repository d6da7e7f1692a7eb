using System.ComponentModel.DataAnnotations;

namespace CaptionSidecar.Costs;

/// <summary>
/// What one model costs, in <see cref="PricingOptions.Currency"/> per million tokens of each kind (as the model pages
/// quote them), plus a per-minute price for models billed by audio duration.
/// </summary>
public sealed class ModelPrice
{
    [Range(0, 10_000)]
    public decimal AudioInput { get; set; }

    [Range(0, 10_000)]
    public decimal CachedAudioInput { get; set; }

    [Range(0, 10_000)]
    public decimal TextInput { get; set; }

    [Range(0, 10_000)]
    public decimal CachedTextInput { get; set; }

    [Range(0, 10_000)]
    public decimal TextOutput { get; set; }

    /// <summary>Per minute of audio, for duration-billed models (<c>whisper-1</c>).</summary>
    [Range(0, 100)]
    public decimal AudioPerMinute { get; set; }
}

/// <summary>
/// Prices for the cost meter. Bound from the <c>Pricing</c> section; a model configured there replaces the default
/// of the same name. Defaults are the published list prices on <see cref="DefaultAsOf"/>: check them before relying on
/// the meter, and override them when prices change.
/// </summary>
public sealed class PricingOptions
{
    public const string Section = "Pricing";

    /// <summary>The day the default prices were read off the model pages.</summary>
    public const string DefaultAsOf = "2026-06-22";

    /// <summary>The day the prices were last checked (shown next to every estimate).</summary>
    public string AsOf { get; set; } = DefaultAsOf;

    /// <summary>The currency the prices are in.</summary>
    public string Currency { get; set; } = "USD";

    /// <summary>Prices by model name; a track's model matches the longest name it starts with (<c>gpt-realtime-2025-08-28</c> matches <c>gpt-realtime</c>).</summary>
    public Dictionary<string, ModelPrice> Models { get; set; } = new(StringComparer.OrdinalIgnoreCase)
    {
        ["gpt-realtime"] = new() { AudioInput = 32m, CachedAudioInput = 0.40m, TextInput = 4m, CachedTextInput = 0.40m, TextOutput = 16m },
        ["gpt-realtime-mini"] = new() { AudioInput = 10m, CachedAudioInput = 0.30m, TextInput = 0.60m, CachedTextInput = 0.06m, TextOutput = 2.40m },
        ["gpt-4o-transcribe"] = new() { AudioInput = 6m, TextInput = 2.50m, TextOutput = 10m },
        ["gpt-4o-mini-transcribe"] = new() { AudioInput = 3m, TextInput = 1.25m, TextOutput = 5m },
        ["whisper-1"] = new() { AudioPerMinute = 0.006m },
    };
}
