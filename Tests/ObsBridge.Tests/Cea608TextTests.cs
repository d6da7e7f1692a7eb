using System.Text;

namespace CaptionSidecar.ObsBridge.Tests;

public sealed class Cea608TextTests
{
    [Theory]
    [InlineData("Café, naïve señor ¿qué?", "Café, naïve señor ¿qué?")] // all in the 608 sets
    [InlineData("Zażółć gęślą jaźń", "Zazólc gesla jazn")] // accents outside the set → base letters
    [InlineData("“Quoted” and ‘single’ – dash…", "\"Quoted\" and 'single' - dash...")]
    [InlineData("Hi 👋 there 🎉!", "Hi there !")]
    [InlineData("Привет мир", "")]
    [InlineData("tab\tand\nnew  line", "tab and new line")]
    [InlineData("Straße Œuvre Ærø", "Straße OEuvre AErø")]
    [InlineData("a `grave` b", "a 'grave' b")]
    public void Sanitize_Text_OnlyCea608Characters(string input, string expected)
    {
        Assert.Equal(expected, Cea608Text.Sanitize(input));
    }

    [Theory]
    [InlineData("Alice", ">> ALICE: ")]
    [InlineData(" José María ", ">> JOSÉ MARÍA: ")]
    [InlineData("Łukasz 🎮", ">> LUKASZ: ")]
    [InlineData("太郎", ">> ")]
    public void SpeakerChange_Name_UpperCased608SafeMarker(string name, string expected) =>
        Assert.Equal(expected, Cea608Text.SpeakerChange(name));

    [Fact]
    public void Wrap_LongText_RowsAtMost32ColumnsAndNoWordLost()
    {
        const string text = "This caption line is clearly much longer than thirty-two columns and must be wrapped into rows";

        var rows = Cea608Text.Wrap(text);

        Assert.All(rows, r => Assert.InRange(r.Length, 1, 32));
        Assert.Equal(text, string.Join(' ', rows));
        Assert.True(rows.Count >= 3);
    }

    [Fact]
    public void Wrap_WordLongerThanARow_IsCut()
    {
        var rows = Cea608Text.Wrap(new string('x', 40) + " end");

        Assert.Equal([new string('x', 32), "xxxxxxxx end"], rows);
    }

    [Fact]
    public void ToFrames_LongText_AtMostTwoRowsAndWithinOneHundredTwentyEightBytes()
    {
        var text = string.Concat(Enumerable.Repeat("♪ é à ü ♪ ", 30));

        var frames = Cea608Text.ToFrames(text, rowsPerFrame: 2);

        Assert.True(frames.Count > 1);
        Assert.All(frames, f =>
        {
            Assert.InRange(Encoding.UTF8.GetByteCount(f), 1, Cea608Text.MaxFrameBytes);
            Assert.InRange(Cea608Text.Wrap(f).Count, 1, 2);
        });
    }

    [Fact]
    public void ToFrames_ShortText_OneFrame()
    {
        Assert.Equal(["Hello everyone"], Cea608Text.ToFrames("Hello  everyone 😀"));
    }

    [Fact]
    public void ToFrames_OnlyUnsupportedCharacters_NoFrames()
    {
        Assert.Empty(Cea608Text.ToFrames("你好世界"));
    }
}
