using System.Text;
using CaptionSidecar.Relay;
using CaptionSidecar.RelayOutput;

namespace CaptionSidecar.Tests.Relay;

/// <summary>The relay publisher's decisions, without sockets or clocks: events in, actions out.</summary>
public sealed class RelayOutboxTests
{
    private static RelayMessage Message(string language, long sequence, string kind = CaptionUpdateKinds.Tentative, int bytes = 0) =>
        new(language, kind, sequence, bytes > 0 ? new byte[bytes] : Encoding.UTF8.GetBytes($"{{\"sequence\":{sequence}}}"));

    private static RelayOutbox ConnectedOutbox()
    {
        var outbox = new RelayOutbox();
        outbox.Connected();
        return outbox;
    }

    private static RelayMessage Published(RelayAction action) => Assert.IsType<RelayAction.Publish>(action).Message;

    [Fact]
    public void Update_Connected_PublishesAtOnce()
    {
        var outbox = ConnectedOutbox();

        var actions = outbox.Update(Message("en", 1));

        Assert.Equal(1, Published(Assert.Single(actions)).Sequence);
    }

    [Fact]
    public void Update_WhileOneIsInFlight_WaitsAndOnlyTheLatestFollows()
    {
        var outbox = ConnectedOutbox();
        outbox.Update(Message("en", 1));

        Assert.Empty(outbox.Update(Message("en", 2)));
        Assert.Empty(outbox.Update(Message("en", 3)));
        var next = outbox.PublishSucceeded("en");

        Assert.Equal(3, Published(Assert.Single(next)).Sequence);
        Assert.Equal(1, outbox.Superseded);
        Assert.Empty(outbox.PublishSucceeded("en"));
        Assert.Equal(2, outbox.Published);
        Assert.True(outbox.IsIdle);
    }

    [Fact]
    public void Update_OtherLanguageWhileOneIsInFlight_PublishesAtOnce()
    {
        var outbox = ConnectedOutbox();
        outbox.Update(Message("en", 1));

        var actions = outbox.Update(Message("es", 1));

        Assert.Equal("es", Published(Assert.Single(actions)).Language);
    }

    [Fact]
    public void Update_FinalReplacedByTentative_GoesOutAsFinal()
    {
        var outbox = ConnectedOutbox();
        outbox.Update(Message("en", 1));
        outbox.Update(Message("en", 2, CaptionUpdateKinds.Final));
        outbox.Update(Message("en", 3, CaptionUpdateKinds.Tentative));

        var next = Published(Assert.Single(outbox.PublishSucceeded("en")));

        Assert.Equal((3L, CaptionUpdateKinds.Final), (next.Sequence, next.Kind));
    }

    [Fact]
    public void Update_ClearedReplacingFinal_KeepsItsOwnKind()
    {
        var outbox = ConnectedOutbox();
        outbox.Update(Message("en", 1));
        outbox.Update(Message("en", 2, CaptionUpdateKinds.Final));
        outbox.Update(Message("en", 3, CaptionUpdateKinds.Cleared));

        Assert.Equal(CaptionUpdateKinds.Cleared, Published(Assert.Single(outbox.PublishSucceeded("en"))).Kind);
    }

    [Fact]
    public void Update_OverTheSizeLimit_IsDroppedCountedAndReported()
    {
        var outbox = ConnectedOutbox();

        var actions = outbox.Update(Message("en", 1, bytes: CaptionSubjects.MaxPayloadBytes + 1));

        Assert.IsType<RelayAction.ReportTooLarge>(Assert.Single(actions));
        Assert.Equal(1, outbox.Dropped);
        Assert.Contains("limit", outbox.LastError, StringComparison.Ordinal);
        Assert.True(outbox.IsIdle);
        Assert.Equal(2, Published(Assert.Single(outbox.Update(Message("en", 2, bytes: CaptionSubjects.MaxPayloadBytes)))).Sequence);
    }

    [Fact]
    public void Update_BeforeTheFirstConnect_WaitsAndOnlyTheLatestPerLanguageGoesOutOnConnect()
    {
        var outbox = new RelayOutbox();
        Assert.Empty(outbox.Update(Message("en", 1)));
        Assert.Empty(outbox.Update(Message("en", 2)));
        Assert.Empty(outbox.Update(Message("es", 1)));

        var actions = outbox.Connected();

        Assert.IsType<RelayAction.ReportConnected>(actions[0]);
        Assert.Equal([("en", 2L), ("es", 1L)], actions.Skip(1).Select(Published).Select(m => (m.Language, m.Sequence)).Order());
    }

    [Fact]
    public void Unreachable_RepeatedDuringOneOutage_ReportedOnceAndTheReturnOnce()
    {
        var outbox = ConnectedOutbox();

        var lost = outbox.Unreachable("connection refused");
        var again = outbox.Unreachable("connection refused");
        var back = outbox.Connected();
        var backAgain = outbox.Connected();

        Assert.Equal(new RelayAction.ReportLost("connection refused", NeverConnected: false), Assert.Single(lost));
        Assert.Empty(again);
        Assert.IsType<RelayAction.ReportBack>(Assert.Single(back));
        Assert.Empty(backAgain);
        // The next outage is reported again.
        Assert.IsType<RelayAction.ReportLost>(Assert.Single(outbox.Unreachable("lost again")));
    }

    [Fact]
    public void Unreachable_BeforeTheFirstConnect_SaysItNeverConnected()
    {
        var outbox = new RelayOutbox();

        var lost = Assert.IsType<RelayAction.ReportLost>(Assert.Single(outbox.Unreachable("refused")));

        Assert.True(lost.NeverConnected);
        Assert.IsType<RelayAction.ReportBack>(Assert.Single(outbox.Connected()));
    }

    [Fact]
    public void Unreachable_WithPublishesInFlight_CancelsThemAndTheyWaitForTheReturn()
    {
        var outbox = ConnectedOutbox();
        outbox.Update(Message("en", 1));

        var lost = outbox.Unreachable("lost");
        var failed = outbox.PublishFailed("en", "lost", retry: true);
        var back = outbox.Connected();

        Assert.Contains(lost, a => a is RelayAction.CancelPublishes);
        Assert.Empty(failed);
        Assert.Equal(1, Assert.IsType<RelayAction.ReportBack>(back[0]).Languages);
        Assert.Equal(1, Published(Assert.Single(back.Skip(1))).Sequence);
    }

    [Fact]
    public void Outage_ManyUpdates_KeepsOnlyTheLatestPerLanguageAndPublishesEachAtOnceOnReturn()
    {
        var outbox = ConnectedOutbox();
        outbox.Update(Message("en", 1));
        outbox.Unreachable("lost");
        outbox.PublishFailed("en", "lost", retry: true);
        for (var i = 2; i <= 1000; i++)
        {
            Assert.Empty(outbox.Update(Message("en", i)));
            Assert.Empty(outbox.Update(Message("es", i)));
        }

        var back = outbox.Connected();

        Assert.Equal(2, Assert.IsType<RelayAction.ReportBack>(back[0]).Languages);
        Assert.Equal([("en", 1000L), ("es", 1000L)], back.Skip(1).Select(Published).Select(m => (m.Language, m.Sequence)).Order());
        Assert.Equal(2, outbox.Unpublished);
    }

    [Fact]
    public void PublishFailed_ForGood_DropsAndReports()
    {
        var outbox = ConnectedOutbox();
        outbox.Update(Message("en", 1));

        var actions = outbox.PublishFailed("en", "too large for the server", retry: false);

        Assert.IsType<RelayAction.ReportFailed>(Assert.Single(actions));
        Assert.Equal(1, outbox.Dropped);
        Assert.True(outbox.IsIdle);
    }

    [Fact]
    public void PublishFailed_ToRetryWhileAppearingConnected_WaitsForTheNextUpdateInsteadOfLooping()
    {
        var outbox = ConnectedOutbox();
        outbox.Update(Message("en", 1, CaptionUpdateKinds.Final));

        Assert.Empty(outbox.PublishFailed("en", "socket closed", retry: true));
        var next = Published(Assert.Single(outbox.Update(Message("en", 2))));

        // The failed final's line is in the newer state: it goes out as final.
        Assert.Equal((2L, CaptionUpdateKinds.Final), (next.Sequence, next.Kind));
    }

    [Fact]
    public void PublishSucceeded_OfAClose_ForgetsTheLanguage()
    {
        var outbox = ConnectedOutbox();
        outbox.Update(Message("en", 1, CaptionUpdateKinds.Closed));

        outbox.PublishSucceeded("en");

        Assert.True(outbox.IsIdle);
        Assert.Equal(0, outbox.Unpublished);
        Assert.Equal(5, Published(Assert.Single(outbox.Update(Message("en", 5)))).Sequence);
    }

    [Fact]
    public void ServerError_RepeatedInARow_ReportedOnceAndKeptAsLastError()
    {
        var outbox = ConnectedOutbox();

        var first = outbox.ServerError("Permissions Violation for Publish to \"$KV.captions.other.en\"");
        var again = outbox.ServerError("Permissions Violation for Publish to \"$KV.captions.other.en\"");

        Assert.IsType<RelayAction.ReportServerError>(Assert.Single(first));
        Assert.Empty(again);
        Assert.StartsWith("Permissions Violation", outbox.LastError, StringComparison.Ordinal);
    }
}
