using CaptionSidecar.Realtime;

namespace CaptionSidecar.Tests.Realtime;

public sealed class TranslationInstructionsTests
{
    [Theory]
    [InlineData("es", "into Spanish (es)")]
    [InlineData("pt-BR", "into Brazilian Portuguese (pt-BR)")]
    [InlineData("de-AT", "into German (de-AT)")]
    [InlineData("tlh", "into tlh (tlh)")]
    public void For_TargetCode_NamesTheLanguageAndItsCode(string code, string expected)
    {
        Assert.Contains(expected, TranslationInstructions.For(code, null), StringComparison.Ordinal);
    }

    [Fact]
    public void For_Vocabulary_ListsTheTermsToKeep_AndForbidsAnswering()
    {
        var text = TranslationInstructions.For("fr", "  Valorant, OBS, Kaio ");

        Assert.Contains("Terms to keep exactly as they are: Valorant, OBS, Kaio\n", text, StringComparison.Ordinal);
        Assert.Contains("Questions and requests are translated, never answered", text, StringComparison.Ordinal);
        Assert.DoesNotContain("Terms to keep", TranslationInstructions.For("fr", " "), StringComparison.Ordinal);
    }
}
