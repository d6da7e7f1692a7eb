using CaptionSidecar.Costs;
using CaptionSidecar.Tracks;
using Microsoft.Extensions.Options;

namespace CaptionSidecar.Tests.Costs;

/// <summary>The cost meter prices text translation: text tokens (cached input too) of the text translation models.</summary>
public sealed class TextTranslationCostTests
{
    private readonly CostMeter _meter = new(Options.Create(new PricingOptions()));

    /// <summary>
    /// An hour of text translation into one target at the README's assumptions: 432 lines, each asked with about 173
    /// tokens of instructions and 5 context items of 16 tokens (253 in), answered with 16 tokens.
    /// </summary>
    private static readonly TokenUsage HourOfLines = new() { TextInputTokens = 432 * 253, TextOutputTokens = 432 * 16 };

    [Theory]
    [InlineData("gpt-realtime", 0.547776)]
    [InlineData("gpt-realtime-mini", 0.0821664)]
    [InlineData("gpt-realtime-mini-2025-10-06", 0.0821664)]
    public void CostOf_AnHourOfTextLines_TextTokensAtTheModelsPrices(string model, double perHour) =>
        Assert.Equal((decimal)perHour, _meter.CostOf(model, HourOfLines));

    [Theory]
    [InlineData("gpt-realtime", 0.40)]
    [InlineData("gpt-realtime-mini", 0.06)]
    public void CostOf_CachedTextInput_AtTheCachedPrice(string model, double perMillion) =>
        Assert.Equal((decimal)perMillion, _meter.CostOf(model, new TokenUsage { CachedTextInputTokens = 1_000_000 }));
}
