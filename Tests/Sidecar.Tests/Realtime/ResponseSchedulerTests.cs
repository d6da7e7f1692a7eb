using CaptionSidecar.Realtime;

namespace CaptionSidecar.Tests.Realtime;

/// <summary>Which translation a session asks for next, and what a refusal means: no socket, no clock.</summary>
public sealed class ResponseSchedulerTests
{
    private readonly ResponseScheduler _scheduler = new();

    private string Ask(string expectedTurn, bool alone = false)
    {
        var request = Assert.IsType<ResponseRequest>(_scheduler.Next());
        Assert.Equal(new ResponseRequest(expectedTurn, alone), request);
        var eventId = "ev_" + expectedTurn + (alone ? "_alone" : string.Empty);
        _scheduler.Sent(eventId, expectedTurn);
        return eventId;
    }

    [Fact]
    public void Next_OneResponseAtATime_TurnsInCommitOrder_NoneLost()
    {
        _scheduler.Committed("a");
        _scheduler.Committed("b");
        _scheduler.Committed("c");

        Ask("a");
        Assert.Null(_scheduler.Next());
        Assert.Equal(("a", "out_a"), _scheduler.Done("r1", "a", "out_a"));
        Ask("b");
        Assert.Equal(("b", "out_b"), _scheduler.Done("r2", null, "out_b"));
        Ask("c");
        _scheduler.Done("r3", null, null);
        Assert.Null(_scheduler.Next());
        Assert.Equal(0, _scheduler.Waiting);
    }

    [Fact]
    public void TurnOf_ResponseWithoutMetadata_BelongsToTheTurnAskedFor_AndKeepsIt()
    {
        _scheduler.Committed("a");
        Ask("a");

        Assert.Equal("a", _scheduler.TurnOf("r1"));
        _scheduler.OutputItemAdded("r1", "out_1");
        Assert.True(_scheduler.IsActiveOutput("out_1"));

        // The output item added names the answer even when response.done lists another first.
        Assert.Equal(("a", "out_1"), _scheduler.Done("r1", null, "other"));
        Assert.False(_scheduler.IsActiveOutput("out_1"));
    }

    [Fact]
    public void Done_ResponseNobodyAskedFor_HasNoTurn()
    {
        Assert.Equal((null, "x"), _scheduler.Done("r_other", null, "x"));
    }

    [Fact]
    public void Refused_AskedOnceMoreAlone_ThenTheTurnFails_AndTheNextTurnIsAskedFor()
    {
        _scheduler.Committed("a");
        _scheduler.Committed("b");
        var first = Ask("a");

        Assert.Equal(new Refusal(RefusalOutcome.AskAlone, "a"), _scheduler.Refused(first, "invalid_value"));
        var alone = Ask("a", alone: true);
        Assert.Equal(new Refusal(RefusalOutcome.Failed, "a"), _scheduler.Refused(alone, "invalid_value"));
        Ask("b");
    }

    [Fact]
    public void Refused_AloneRequestAnswered_NextRefusalOfTheSameTurnTriesAloneAgain()
    {
        _scheduler.Committed("a");
        var first = Ask("a");
        _scheduler.Refused(first, "invalid_value");
        Ask("a", alone: true);
        _scheduler.Done("r1", "a", "out");

        _scheduler.Committed("b");
        Assert.Equal(new ResponseRequest("b", false), _scheduler.Next());
    }

    [Fact]
    public void Refused_ConversationBusy_SameTurnAskedAgainOnlyAfterTheOtherResponseIsDone()
    {
        _scheduler.Committed("a");
        var first = Ask("a");

        Assert.Equal(new Refusal(RefusalOutcome.AskAgainWhenIdle, "a"), _scheduler.Refused(first, "conversation_already_has_active_response"));
        Assert.Null(_scheduler.Next());
        Assert.Equal((null, null), _scheduler.Done("r_other", null, null));
        Ask("a");
    }

    [Fact]
    public void Refused_EventThatIsNoActiveRequest_ChangesNothing()
    {
        _scheduler.Committed("a");
        Ask("a");

        Assert.Equal(RefusalOutcome.NotARequest, _scheduler.Refused("ev_delete", "invalid_value").Outcome);
        Assert.Equal("a", _scheduler.ActiveTurn);
    }

    [Fact]
    public void Refused_AfterTheResponseStarted_IsNotARequestRefusal()
    {
        _scheduler.Committed("a");
        var first = Ask("a");
        _scheduler.TurnOf("r1", "a");

        Assert.Equal(RefusalOutcome.NotARequest, _scheduler.Refused(first, "invalid_value").Outcome);
    }
}
