using CaptionSidecar.Realtime;

namespace CaptionSidecar.Tests.Realtime;

public sealed class RolloverScheduleTests
{
    private static readonly DateTimeOffset Ready = new(2026, 11, 25, 20, 0, 0, TimeSpan.Zero);

    [Fact]
    public void StartAt_ServiceSessionOfAnHour_OpensTheNextAt55MinutesAndHandsOverWithin30Seconds()
    {
        var schedule = new RolloverSchedule(TimeSpan.FromMinutes(55), Ready, Ready.AddMinutes(60));

        Assert.Equal(Ready.AddMinutes(55), schedule.StartAt);
        Assert.Equal(Ready.AddMinutes(55).AddSeconds(40), schedule.HandOverBy(Ready.AddMinutes(55).AddSeconds(10)));
    }

    [Fact]
    public void StartAt_ExpiryEarlierThanTheMaximumAge_LeavesRoomBeforeTheExpiry()
    {
        var schedule = new RolloverSchedule(TimeSpan.FromMinutes(55), Ready, Ready.AddMinutes(30));

        Assert.Equal(Ready.AddMinutes(25), schedule.StartAt);
        // Never later than shortly before the expiry, whatever the wait for a pause.
        Assert.Equal(Ready.AddMinutes(30) - TimeSpan.FromSeconds(75), schedule.HandOverBy(Ready.AddMinutes(29)));
    }

    [Fact]
    public void StartAt_ShortLivedSession_RollsOverAtHalfItsLife()
    {
        var schedule = new RolloverSchedule(TimeSpan.FromMinutes(55), Ready, Ready.AddSeconds(4));

        Assert.Equal(Ready.AddSeconds(2), schedule.StartAt);
        Assert.Equal(Ready.AddSeconds(3.5), schedule.HandOverBy(Ready.AddSeconds(2.1)));
    }

    [Fact]
    public void StartAt_NoExpiryKnown_FollowsTheMaximumAge()
    {
        var schedule = new RolloverSchedule(TimeSpan.FromMinutes(55), Ready, null);

        Assert.Equal(Ready.AddMinutes(55), schedule.StartAt);
        Assert.Equal(Ready.AddMinutes(56).AddSeconds(30), schedule.HandOverBy(Ready.AddMinutes(56)));
    }

    [Fact]
    public void StartAt_RolloverOff_IsNull()
    {
        Assert.Null(new RolloverSchedule(TimeSpan.Zero, Ready, Ready.AddMinutes(60)).StartAt);
    }
}
