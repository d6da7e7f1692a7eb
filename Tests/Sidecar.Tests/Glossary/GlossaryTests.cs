using CaptionSidecar.Glossaries;

namespace CaptionSidecar.Tests.Glossaries;

/// <summary>The glossary file format, and what a glossary adds to the transcription prompt and the translation instructions.</summary>
public sealed class GlossaryTests
{
    private const string Sample = """
        # Channel glossary
        Kubernetes

        Ranked mode | es: modo clasificatoria | fr: mode classé
          Valorant   # not a comment: the whole line is the term
        """;

    [Fact]
    public void Parse_TermsCommentsBlankLinesAndTranslations_KeepsTermsInFileOrder()
    {
        var glossary = Glossary.Parse(Sample);

        Assert.Equal(["Kubernetes", "Ranked mode", "Valorant   # not a comment: the whole line is the term"], glossary.Terms.Select(t => t.Term));
        Assert.Empty(glossary.Terms[0].Translations);
        Assert.Equal("modo clasificatoria", glossary.Terms[1].Translations["es"]);
        Assert.Equal("mode classé", glossary.Terms[1].Translations["fr"]);
    }

    [Fact]
    public void Parse_WindowsLineEndingsAndUpperCaseCodes_AreRead()
    {
        var glossary = Glossary.Parse("OBS\r\nRanked mode | ES: modo clasificatoria\r\n");

        Assert.Equal(["OBS", "Ranked mode"], glossary.Terms.Select(t => t.Term));
        Assert.Equal("modo clasificatoria", glossary.Terms[1].Translations["es"]);
    }

    [Theory]
    [InlineData("OBS\n| es: algo", "line 2: the term before the first '|' is empty.")]
    [InlineData("OBS\n\nRanked mode | modo clasificatoria", "line 3: 'modo clasificatoria' is not a fixed translation such as 'es: modo clasificatoria'.")]
    [InlineData("Ranked mode | es:", "line 1: 'es:' is not a fixed translation")]
    [InlineData("Ranked mode | es: uno | es: dos", "line 1: the language 'es' has two translations.")]
    [InlineData("OBS\n# comment\nobs", "line 3: 'obs' is already listed above.")]
    public void Parse_MalformedLine_ErrorNamesTheLine(string text, string expected)
    {
        var ex = Assert.Throws<FormatException>(() => Glossary.Parse(text));

        Assert.StartsWith(expected, ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void TranscriptionPrompt_AddsTheTermsToThePromptVocabulary()
    {
        var glossary = Glossary.Parse("Kubernetes\nRanked mode | es: modo clasificatoria");

        Assert.Equal("Valorant, OBS Kubernetes, Ranked mode", glossary.TranscriptionPrompt("Valorant, OBS"));
        Assert.Equal("Kubernetes, Ranked mode", glossary.TranscriptionPrompt(null));
        Assert.Equal("OBS", Glossary.Empty.TranscriptionPrompt("OBS"));
        Assert.Null(Glossary.Empty.TranscriptionPrompt(" "));
    }

    [Fact]
    public void TranslationRules_KeepTermsAndUseTheTargetsFixedTranslations()
    {
        var glossary = Glossary.Parse("Kubernetes\nRanked mode | es: modo clasificatoria | fr: mode classé");

        var es = glossary.TranslationRules("es");
        Assert.Contains("Glossary terms to keep exactly as they are: Kubernetes\n", es, StringComparison.Ordinal);
        Assert.Contains("- Ranked mode => modo clasificatoria\n", es, StringComparison.Ordinal);
        Assert.DoesNotContain("mode classé", es, StringComparison.Ordinal);

        // No German translation: the term is kept as it is.
        Assert.Equal("Glossary terms to keep exactly as they are: Kubernetes, Ranked mode\n", glossary.TranslationRules("de"));

        // A translation for the primary language serves a regional target.
        Assert.Contains("- Ranked mode => modo clasificatoria", glossary.TranslationRules("es-MX"), StringComparison.Ordinal);
        Assert.Equal(string.Empty, Glossary.Empty.TranslationRules("es"));
    }

    [Fact]
    public void Check_TooLongForAPrompt_NamesTheLimit()
    {
        var text = string.Join('\n', Enumerable.Range(0, 120).Select(i => $"Term number {i}"));

        var (glossary, error) = GlossarySource.Check("/tmp/g.txt", text, "Valorant");

        Assert.Null(glossary);
        Assert.Contains("too long for a transcription prompt", error, StringComparison.Ordinal);
        Assert.Contains("the limit is 1024", error, StringComparison.Ordinal);
    }

    [Fact]
    public void Check_Malformed_NamesTheFileAndLine()
    {
        var (glossary, error) = GlossarySource.Check("/tmp/g.txt", "OBS\n|", null);

        Assert.Null(glossary);
        Assert.Equal("the glossary '/tmp/g.txt' is malformed: line 2: the term before the first '|' is empty.", error);
    }
}
