using CaptionSidecar.Realtime;

namespace CaptionSidecar.Tests.Realtime;

/// <summary>A translation session's bounded conversation: context and deletes, no socket.</summary>
public sealed class TranslationConversationTests
{
    [Fact]
    public void Context_NewestWholePairsWithinTheBound_ThenTheTurn()
    {
        var conversation = new TranslationConversation(maxItems: 4);
        foreach (var (turn, answer) in new[] { ("t1", "a1"), ("t2", "a2") })
        {
            conversation.Add(turn);
            conversation.Add(answer);
            conversation.Translated(turn, answer);
        }

        conversation.Add("t3");

        Assert.Equal(["t2", "a2", "t3"], conversation.Context("t3", alone: false));
        Assert.Equal(["t3"], conversation.Context("t3", alone: true));
    }

    [Fact]
    public void Context_PairWithAnItemGoneOrBeingDeleted_IsLeftOut()
    {
        var conversation = new TranslationConversation(maxItems: 6);
        foreach (var (turn, answer) in new[] { ("t1", "a1"), ("t2", "a2") })
        {
            conversation.Add(turn);
            conversation.Add(answer);
            conversation.Translated(turn, answer);
        }

        conversation.DeleteSent("ev_1", "a2");
        Assert.Equal(["t1", "a1", "t3"], conversation.Context("t3", alone: false));
        conversation.Forget("t1");
        Assert.Equal(["t3"], conversation.Context("t3", alone: false));
    }

    [Fact]
    public void ExcessItems_OldestBeyondTheBound_SkippingKeptAndDeleting()
    {
        var conversation = new TranslationConversation(maxItems: 2);
        foreach (var item in new[] { "t1", "a1", "t2", "a2", "t3" })
        {
            conversation.Add(item);
        }

        Assert.Equal(["t1", "a1", "t2"], conversation.ExcessItems(_ => false));
        Assert.Equal(["a1", "t2", "a2"], conversation.ExcessItems(item => item == "t1"));

        conversation.DeleteSent("ev_1", "t1");
        Assert.True(conversation.DeletesPending);
        Assert.Equal(["a1", "t2"], conversation.ExcessItems(_ => false));
    }

    [Fact]
    public void Forget_DeletedOrRefused_StopsTracking_DeletesSettle()
    {
        var conversation = new TranslationConversation(maxItems: 2);
        foreach (var item in new[] { "t1", "a1", "t2" })
        {
            conversation.Add(item);
        }

        conversation.DeleteSent("ev_1", "t1");
        conversation.DeleteSent("ev_2", "a1");
        Assert.Equal("a1", conversation.DeleteOf("ev_2"));

        conversation.Forget("t1");
        conversation.Forget("a1", "ev_2");

        Assert.False(conversation.DeletesPending);
        Assert.Equal(["t2"], conversation.Items);
        Assert.Null(conversation.DeleteOf("ev_2"));
    }

    [Fact]
    public void Add_AfterItsPrevious_OnceOnly()
    {
        var conversation = new TranslationConversation(maxItems: 6);
        conversation.Add("t1");
        conversation.Add("t3");
        conversation.Add("t2", previous: "t1");
        conversation.Add("t1");

        Assert.Equal(["t1", "t2", "t3"], conversation.Items);
    }
}
