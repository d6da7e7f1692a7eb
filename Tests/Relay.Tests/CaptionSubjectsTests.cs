namespace CaptionSidecar.Relay.Tests;

public sealed class CaptionSubjectsTests
{
    [Theory]
    [InlineData("demo", "en", "$KV.captions.demo.en")]
    [InlineData("Night-Stream-2", "PT-BR", "$KV.captions.night-stream-2.pt-br")]
    public void Subject_ValidNames_IsTheBucketSubjectInLowerCase(string stream, string language, string expected) =>
        Assert.Equal(expected, CaptionSubjects.Subject(stream, language));

    [Theory]
    [InlineData("")]
    [InlineData("a.b")]
    [InlineData("a b")]
    [InlineData("a*")]
    [InlineData(">")]
    [InlineData("ä")]
    public void Subject_StreamWithSubjectCharacters_IsRefusedWithWhatIsAllowed(string stream)
    {
        var error = Assert.Throws<ArgumentException>(() => CaptionSubjects.Subject(stream, "en"));
        Assert.Contains("letters, digits and dashes", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void IsValidStream_SixtyFiveCharacters_IsFalse()
    {
        Assert.True(CaptionSubjects.IsValidStream(new string('a', 64)));
        Assert.False(CaptionSubjects.IsValidStream(new string('a', 65)));
    }

    [Theory]
    [InlineData("demo.en", true, "demo", "en")]
    [InlineData("Demo.ES", true, "demo", "es")]
    [InlineData("demo", false, "", "")]
    [InlineData("demo.en.x", false, "", "")]
    [InlineData(".en", false, "", "")]
    [InlineData("demo.", false, "", "")]
    public void TryParseKey_SplitsStreamAndLanguage(string key, bool valid, string stream, string language)
    {
        Assert.Equal(valid, CaptionSubjects.TryParseKey(key, out var s, out var l));
        Assert.Equal(stream, s);
        Assert.Equal(language, l);
    }

    [Theory]
    [InlineData("DESKTOP-AB12CD", "desktop-ab12cd")]
    [InlineData("my_pc.local", "my-pc-local")]
    [InlineData("--x--", "x")]
    [InlineData("日本", "stream")]
    public void StreamFromMachine_KeepsLettersDigitsAndSingleDashes(string machine, string expected) =>
        Assert.Equal(expected, CaptionSubjects.StreamFromMachine(machine));
}
