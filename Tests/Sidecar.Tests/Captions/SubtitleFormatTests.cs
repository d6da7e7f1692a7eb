using CaptionSidecar.Captions;

namespace CaptionSidecar.Tests.Captions;

public sealed class SubtitleFormatTests
{
    [Theory]
    [InlineData(0, "00:00:00,000")]
    [InlineData(3_200, "00:00:03,200")]
    [InlineData(3_723_004, "01:02:03,004")]
    [InlineData(36_000_000, "10:00:00,000")]
    [InlineData(-250, "00:00:00,000")]
    public void SrtTime_Milliseconds_FormatsWithComma(long milliseconds, string expected)
    {
        Assert.Equal(expected, SubtitleFormat.SrtTime(TimeSpan.FromMilliseconds(milliseconds)));
    }

    [Theory]
    [InlineData(12_345_678L, "00:00:01.235")] // 1.2345678 s rounds up
    [InlineData(12_344_999L, "00:00:01.234")]
    [InlineData(599_999_999L, "00:01:00.000")] // 59.9999999 s carries into the minute
    public void VttTime_Ticks_RoundsToTheMillisecondWithDot(long ticks, string expected)
    {
        Assert.Equal(expected, SubtitleFormat.VttTime(TimeSpan.FromTicks(ticks)));
    }

    [Theory]
    [InlineData(3_240, "00:00:03.2")]
    [InlineData(3_250, "00:00:03.3")]
    [InlineData(59_960, "00:01:00.0")]
    [InlineData(4_000_000, "01:06:40.0")]
    public void ConsoleTime_Milliseconds_RoundsToTheTenth(long milliseconds, string expected)
    {
        Assert.Equal(expected, SubtitleFormat.ConsoleTime(TimeSpan.FromMilliseconds(milliseconds)));
    }

    [Fact]
    public void EscapeVtt_ReservedCharacters_BecomeEntities()
    {
        Assert.Equal("a &lt;b&gt; &amp; c --&gt; d", SubtitleFormat.EscapeVtt("a <b> & c --> d"));
    }

    [Fact]
    public void EscapeVttAnnotation_NameWithReservedCharactersAndLineBreak_CannotEndTheTagOrTheCue()
    {
        Assert.Equal("Bob &gt;&lt;&amp; Jr", SubtitleFormat.EscapeVttAnnotation("Bob ><&\n Jr"));
    }

    [Fact]
    public void LabelledText_Blocks_LabelOnEachBlocksFirstLineOnly()
    {
        var alice = new SpeakerLabel("Alice", "#ff8800");
        var bob = new SpeakerLabel("Bob", "#00aaff");
        CaptionLine[] lines =
        [
            new("One,", "", alice), new("two.", " Three", alice), new("Yes.", "", bob), new("Again.", "", alice), new("Nobody.", ""),
        ];

        Assert.Equal("Alice: One,\ntwo. Three\nBob: Yes.\nAlice: Again.\nNobody.", SubtitleFormat.LabelledText(lines));
        Assert.Equal([true, false, true, true, false], Enumerable.Range(0, lines.Length).Select(i => SubtitleFormat.StartsBlock(lines, i)));
    }

    [Fact]
    public void LabelledText_NoSpeakers_IsTheDisplayText()
    {
        CaptionLine[] lines = [new("Hello", " wor"), new("", "ld")];

        Assert.Equal(new CaptionUpdate("en", 1, CaptionUpdateKind.Text, lines, [], default).DisplayText, SubtitleFormat.LabelledText(lines));
    }

    [Fact]
    public void Wrap_LongSentence_BreaksAtSpacesWithinTheLimit()
    {
        var lines = SubtitleFormat.Wrap("This longer sample sentence is here to check that captions wrap neatly.", 20);

        Assert.Equal(["This longer sample", "sentence is here to", "check that captions", "wrap neatly."], lines);
    }

    [Fact]
    public void Wrap_WordLongerThanALine_IsCutIntoLineSizedPieces()
    {
        Assert.Equal(["A", "pneumonoul", "tramicrosc", "opic word"], SubtitleFormat.Wrap("A pneumonoultramicroscopic word", 10));
        Assert.Equal(["これは字幕の", "サンプルです"], SubtitleFormat.Wrap("これは字幕のサンプルです", 6));
    }

    [Fact]
    public void Wrap_LineBreaksAndRunsOfSpaces_FoldToSingleSpaces()
    {
        Assert.Equal(["one two", "three"], SubtitleFormat.Wrap("  one\n\ntwo \r\n three ", 7));
        Assert.Empty(SubtitleFormat.Wrap(" \n ", 7));
    }

    [Fact]
    public void CueTimes_ShortCue_ExtendedToTheMinimumDuration()
    {
        var (start, end) = SubtitleFormat.CueTimes(TimeSpan.FromSeconds(10), TimeSpan.FromSeconds(10.2), TimeSpan.FromSeconds(4));

        Assert.Equal(TimeSpan.FromSeconds(10), start);
        Assert.Equal(TimeSpan.FromSeconds(10) + SubtitleFormat.MinimumCueDuration, end);
    }

    [Fact]
    public void CueTimes_NegativeOrEarlierThanThePreviousCue_NeverGoesBack()
    {
        var (start, end) = SubtitleFormat.CueTimes(TimeSpan.FromSeconds(-1), TimeSpan.FromSeconds(3), TimeSpan.Zero);
        Assert.Equal(TimeSpan.Zero, start);
        Assert.Equal(TimeSpan.FromSeconds(3), end);

        (start, end) = SubtitleFormat.CueTimes(TimeSpan.FromSeconds(5), TimeSpan.FromSeconds(9), TimeSpan.FromSeconds(6));
        Assert.Equal(TimeSpan.FromSeconds(6), start);
        Assert.Equal(TimeSpan.FromSeconds(9), end);
    }
}
