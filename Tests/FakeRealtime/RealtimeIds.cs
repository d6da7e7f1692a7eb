using System.Security.Cryptography;

namespace CaptionSidecar.FakeRealtime;

/// <summary>Identifiers of the real service's forms: a prefix and 21 base62 characters (<c>event_C9G5RJeJ2gF77mV7f2B1j</c>).</summary>
internal static class RealtimeIds
{
    private const string Alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

    public static string Event() => New("event_");

    public static string Session() => New("sess_");

    public static string Item() => New("item_");

    public static string Response() => New("resp_");

    public static string Conversation() => New("conv_");

    private static string New(string prefix) => prefix + RandomNumberGenerator.GetString(Alphabet, 21);
}
