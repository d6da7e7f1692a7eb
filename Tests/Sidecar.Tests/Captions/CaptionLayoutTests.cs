using CaptionSidecar.Captions;

namespace CaptionSidecar.Tests.Captions;

public sealed class CaptionLayoutTests
{
    private static CaptionLine F(string text) => new(text, "");

    [Fact]
    public void Render_FinalText_BreaksAtWordBoundaries()
    {
        var layout = new CaptionLayout(maxLines: 3, maxCharactersPerLine: 10);
        layout.AppendFinal("The quick brown fox");

        Assert.Equal([F("The quick"), F("brown fox")], layout.Render(""));
    }

    [Fact]
    public void Render_MoreLinesThanMax_OldestLinesScrollOff()
    {
        var layout = new CaptionLayout(maxLines: 2, maxCharactersPerLine: 10);
        layout.AppendFinal("The quick brown fox jumps");

        Assert.Equal([F("brown fox"), F("jumps")], layout.Render(""));
    }

    [Fact]
    public void Render_WordLongerThanLine_SplitsItHard()
    {
        var layout = new CaptionLayout(maxLines: 5, maxCharactersPerLine: 5);
        layout.AppendFinal("ab abcdefghijkl x");

        Assert.Equal([F("ab"), F("abcde"), F("fghij"), F("kl x")], layout.Render(""));
    }

    [Fact]
    public void Render_FinalThenTentative_SplitsEachLineIntoParts()
    {
        var layout = new CaptionLayout(maxLines: 2, maxCharactersPerLine: 10);
        layout.AppendFinal("The quick brown fox jumps");

        var lines = layout.Render("over the");

        Assert.Equal([new CaptionLine("jumps", " over"), new CaptionLine("", "the")], lines);
        Assert.Equal("jumps over\nthe", string.Join('\n', lines.Select(l => l.Text)));
    }

    [Theory]
    [InlineData("  Hello,\tworld!\n ", 42, "Hello, world!")]
    [InlineData("one two three four five six", 9, "one two\nthree\nfour five\nsix")]
    [InlineData("a bb ccc dddd", 4, "a bb\nccc\ndddd")]
    public void Render_HandCheckedInputs_ExactLines(string text, int width, string expected)
    {
        var layout = new CaptionLayout(maxLines: 10, maxCharactersPerLine: width);
        layout.AppendFinal(text);

        var lines = layout.Render("");

        Assert.Equal(expected, string.Join('\n', lines.Select(l => l.Text)));
        Assert.All(lines, l => Assert.True(l.Text.Length <= width, $"'{l.Text}' is longer than {width}"));
    }

    [Fact]
    public void Render_GrowingTurnsWithDifferentCompletions_FinalTextNeverRewritten()
    {
        var random = new Random(7);
        string[] vocabulary = ["a", "the", "caption", "is", "extraordinarily", "on", "stream", "tonight", "we", "x", "supercalifragilistic"];
        var layout = new CaptionLayout(maxLines: 3, maxCharactersPerLine: 16);
        IReadOnlyList<CaptionLine> shown = [];
        for (var turn = 0; turn < 60; turn++)
        {
            var words = Enumerable.Range(0, random.Next(1, 8)).Select(_ => vocabulary[random.Next(vocabulary.Length)]).ToArray();
            var spoken = string.Join(' ', words);
            for (var length = 1; length <= spoken.Length; length += random.Next(1, 4))
            {
                shown = AssertFinalKept(shown, layout.Render(spoken[..length]));
            }

            // The completion often differs from what was tentative (punctuation, a corrected word).
            var final = random.Next(3) == 0 ? spoken.ToUpperInvariant() + "." : spoken;
            layout.AppendFinal(final);
            shown = AssertFinalKept(shown, layout.Render(""));
            Assert.All(shown, l => Assert.True(l.Text.Length <= 16 && l.TentativeText.Length == 0));
            Assert.True(shown.Count <= 3);
        }
    }

    [Fact]
    public void Render_GrowingTentativeText_TailNeverShrinksAndEarlierLinesStay()
    {
        const string Speech = "so what we are going to build tonight is a caption sidecar for the stream";
        var layout = new CaptionLayout(maxLines: 10, maxCharactersPerLine: 12);
        layout.AppendFinal("Hi all.");
        IReadOnlyList<CaptionLine> previous = layout.Render("");
        for (var length = 1; length <= Speech.Length; length++)
        {
            var lines = layout.Render(Speech[..length]);
            Assert.True(Tentative(lines) >= Tentative(previous), $"tentative text shrank at '{Speech[..length]}'");

            // Only the last line may change or move a growing word down; every line before it stays.
            Assert.Equal(previous.Take(previous.Count - 1), lines.Take(previous.Count - 1));
            Assert.Equal(F("Hi all.").FinalText, lines[0].FinalText);
            previous = lines;
        }

        static int Tentative(IReadOnlyList<CaptionLine> lines) => lines.Sum(l => l.TentativeText.Trim().Length);
    }

    [Fact]
    public void Clear_AfterText_NextTextStartsOnCleanScreen()
    {
        var layout = new CaptionLayout(maxLines: 2, maxCharactersPerLine: 20);
        layout.AppendFinal("Earlier words");
        layout.Clear();

        Assert.True(layout.IsEmpty);
        Assert.Empty(layout.Render(""));
        Assert.Equal([new CaptionLine("", "next")], layout.Render("next"));
    }

    /// <summary>
    /// Every final part shown before is shown unchanged after (the last one may have grown), shifted up by the lines
    /// that scrolled off (one step of the tests adds at most two lines); returns <paramref name="next"/>.
    /// </summary>
    private static IReadOnlyList<CaptionLine> AssertFinalKept(IReadOnlyList<CaptionLine> previous, IReadOnlyList<CaptionLine> next)
    {
        var finals = previous.Select((l, i) => (l.FinalText, i)).Where(x => x.FinalText.Length > 0).ToList();
        if (finals.Count == 0)
        {
            return next;
        }

        var lastFinal = finals[^1].i;
        var kept = Enumerable.Range(0, 3).Any(shift => finals.All(f =>
            f.i - shift < 0
            || (f.i - shift < next.Count && (f.i == lastFinal
                ? next[f.i - shift].FinalText.StartsWith(f.FinalText, StringComparison.Ordinal)
                : next[f.i - shift].FinalText == f.FinalText))));
        Assert.True(kept, $"final text was rewritten:\n{Show(previous)}\n--- became ---\n{Show(next)}");
        return next;
    }

    private static string Show(IReadOnlyList<CaptionLine> lines) => string.Join('\n', lines.Select(l => $"[{l.FinalText}|{l.TentativeText}]"));
}
