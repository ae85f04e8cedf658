using System.Text;

namespace Tq.Core.Templates;

/// <summary>Arithmetic operators with Python semantics (<c>/</c> is true division, <c>//</c> and <c>%</c> floor).</summary>
internal static class TemplateArithmetic
{
    public static object? Apply(string op, object? l, object? r)
    {
        if (op == "+")
        {
            if (l is string || r is string)
            {
                // llama.cpp concatenates a string with anything through its string form, none and undefined as "".
                return TemplateValue.ToConcatString(l) + TemplateValue.ToConcatString(r);
            }

            if (l is List<object?> a && r is List<object?> b)
            {
                return new List<object?>([.. a, .. b]);
            }
        }

        if (op == "*")
        {
            if (l is string s && r is long n)
            {
                return Repeat(s, n);
            }

            if (l is long m && r is string t)
            {
                return Repeat(t, m);
            }
        }

        if (!IsArithmetic(l) || !IsArithmetic(r))
        {
            throw TemplateErrors.Type($"Unsupported operand types for '{op}': {TemplateValue.TypeName(l)} and {TemplateValue.TypeName(r)}.");
        }

        bool integers = (l is long or bool) && (r is long or bool);
        if (integers)
        {
            long x = TemplateValue.ToLong(l);
            long y = TemplateValue.ToLong(r);
            switch (op)
            {
                case "+": return x + y;
                case "-": return x - y;
                case "*": return x * y;
                case "/":
                    return y == 0 ? throw TemplateErrors.Type("Division by zero.") : (double)x / y;
                case "//":
                    return y == 0 ? throw TemplateErrors.Type("Division by zero.") : FloorDiv(x, y);
                case "%":
                    return y == 0 ? throw TemplateErrors.Type("Modulo by zero.") : x - (FloorDiv(x, y) * y);
                case "**":
                    return y >= 0 ? (object)(long)Math.Pow(x, y) : Math.Pow(x, y);
            }
        }

        double dx = TemplateValue.ToDouble(l);
        double dy = TemplateValue.ToDouble(r);
        return op switch
        {
            "+" => dx + dy,
            "-" => dx - dy,
            "*" => dx * dy,
            "/" => dy == 0 ? throw TemplateErrors.Type("Division by zero.") : dx / dy,
            "//" => dy == 0 ? throw TemplateErrors.Type("Division by zero.") : Math.Floor(dx / dy),
            "%" => dy == 0 ? throw TemplateErrors.Type("Modulo by zero.") : dx - (Math.Floor(dx / dy) * dy),
            "**" => Math.Pow(dx, dy),
            _ => throw TemplateErrors.Type($"Unknown operator '{op}'."),
        };
    }

    private static bool IsArithmetic(object? value) => value is long or double or bool;

    private static long FloorDiv(long x, long y)
    {
        long q = x / y;
        return (x % y != 0) && ((x < 0) != (y < 0)) ? q - 1 : q;
    }

    private static string Repeat(string s, long count)
    {
        if (count <= 0)
        {
            return string.Empty;
        }

        var sb = new StringBuilder(checked((int)(s.Length * count)));
        for (long i = 0; i < count; i++)
        {
            sb.Append(s);
        }

        return sb.ToString();
    }
}
