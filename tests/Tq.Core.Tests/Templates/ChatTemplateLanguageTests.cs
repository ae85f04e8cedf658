using System.Text.Json.Nodes;
using Tq.Core.Templates;
using Xunit;

namespace Tq.Core.Tests.Templates;

/// <summary>The Jinja subset: expressions, filters, tests, statements, scoping, whitespace control and errors.</summary>
public sealed class ChatTemplateLanguageTests
{
    private const string Variables = """
        {
          "s": " Hi there ", "n": 3, "f": 1.5, "items": [1, 2, 3], "d": {"b": 1, "a": 2}, "empty": "", "nul": null, "t": true,
          "msgs": [{"role": "user", "content": "x"}, {"role": "assistant", "content": "y"}, {"role": "user", "content": "z"}],
          "tool": {"name": "get_weather", "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}},
          "text": "héllo \"q\"\n\t<b>"
        }
        """;

    internal static string Render(string source, string? variables = Variables)
    {
        var input = new ChatTemplateInput([]) { ApplyPolyfills = false, TimeProvider = FixedTimeProvider.ReferenceDay, EnableThinking = null };
        if (variables is not null)
        {
            foreach (KeyValuePair<string, JsonNode?> pair in JsonNode.Parse(variables)!.AsObject())
            {
                input.Variables[pair.Key] = pair.Value?.DeepClone();
            }
        }

        return ChatTemplate.Parse(source).Render(input);
    }

    [Theory]
    [InlineData("{{ 1 + 2 * 3 }}", "7")]
    [InlineData("{{ (1 + 2) * 3 }}", "9")]
    [InlineData("{{ 7 / 2 }}|{{ 4 / 2 }}|{{ 7 // 2 }}|{{ -7 // 2 }}|{{ 7 % 3 }}|{{ -7 % 3 }}", "3.5|2.0|3|-4|1|2")]
    [InlineData("{{ 2 ** 10 }}|{{ n - 5 }}|{{ f * 2 }}|{{ -n }}", "1024|-2|3.0|-3")]
    [InlineData("{{ ('a' ~ 1 ~ nul ~ t) | string }}|{{ ('b' + nul) | string }}|{{ (undefined_var + 'c') | string }}|{{ ([nul]) | string }}", "a1True|b|c|[None]")]
    [InlineData("{{ ('a' + 'b') | string }}|{{ ('x' * 3) | string }}|{{ ([1] + [2]) | string }}", "ab|xxx|[1, 2]")]
    [InlineData("{{ 1 == 1.0 }}|{{ 'a' != 'b' }}|{{ 2 < 3 <= 3 }}|{{ 3 > 4 }}|{{ 'b' >= 'a' }}", "True|True|True|False|True")]
    [InlineData("{{ 'ell' in 'hello' }}|{{ 2 in items }}|{{ 'a' in d }}|{{ 'z' not in d }}|{{ 'x' in undefined_var }}", "True|True|True|True|False")]
    [InlineData("{{ t and 'yes' }}|{{ empty or 'fallback' }}|{{ not t }}|{{ not empty and n }}", "yes|fallback|False|3")]
    [InlineData("{{ 'a' if t else 'b' }}|{{ 'a' if empty else 'b' }}|[{{ 'a' if empty }}]", "a|b|[]")]
    [InlineData("{{ true }}|{{ True }}|{{ false }}|{{ none }}|{{ None }}|{{ nul }}", "True|True|False|||")]
    [InlineData("{{ [1, 'a', none, true] ~ '' }}|{{ {'k': 'v', 'n': 1} ~ '' }}|{{ (1, 2) ~ '' }}|{{ [\"it's\"] ~ '' }}", "[1, 'a', None, True]|{'k': 'v', 'n': 1}|[1, 2]|[\"it's\"]")]
    [InlineData("[{{ [1, 'a', none, true, [2.5]] }}][{{ {'k': 'v'} }}][{{ range }}]", "[1aTrue2.5][][]")]
    [InlineData("{{ \"it's\" }}|{{ 'say \"hi\"' }}|{{ 'tab\\tnew\\nline' }}|{{ 'a' 'b' }}", "it's|say \"hi\"|tab\tnew\nline|ab")]
    [InlineData("{{ 1.25 }}|{{ 10 }}|{{ 1e3 }}|{{ 0.1 + 0.2 }}|{{ -0.5 }}", "1.25|10|1000.0|0.3|-0.5")]
    public void Render_Operators_FollowPythonSemantics(string source, string expected) => Assert.Equal(expected, Render(source));

    [Theory]
    [InlineData("{{ (items[0]) | string }}{{ (items[-1]) | string }}|{{ (items[1:]) | string }}|{{ (items[:-1]) | string }}|{{ (items[::-1]) | string }}|{{ (items[::2]) | string }}", "13|[2, 3]|[1, 2]|[3, 2, 1]|[1, 3]")]
    [InlineData("{{ 'hello'[1:3] }}|{{ 'hello'[::-1] }}|{{ 'hello'[-1] }}", "el|olleh|o")]
    [InlineData("{{ d.a }}{{ d['b'] }}|{{ msgs[1].content }}|{{ msgs[1]['role'] }}|{{ tool.parameters.required[0] }}", "21|y|assistant|city")]
    [InlineData("[{{ d.missing }}][{{ d.missing.deeper }}][{{ undefined_var.x['y'] }}][{{ items[10] }}]", "[][][][]")]
    public void Render_SubscriptsSlicesAndAttributes_Work(string source, string expected) => Assert.Equal(expected, Render(source));

    [Theory]
    [InlineData("{{ s | trim }}|{{ s | upper }}|{{ s | lower }}|{{ 'hello world' | capitalize }}|{{ 'hello world' | title }}", "Hi there| HI THERE | hi there |Hello world|Hello World")]
    [InlineData("{{ items | length }}|{{ d | length }}|{{ 'abc' | length }}|{{ undefined_var | length }}|{{ items | count }}", "3|2|3|0|3")]
    [InlineData("{{ 'a-b-c' | replace('-', '+') }}|{{ items | join(', ') }}|{{ msgs | map(attribute='role') | join }}", "a+b+c|1, 2, 3|userassistantuser")]
    [InlineData("{{ undefined_var | default('dv') }}|{{ empty | default('dv') }}|{{ empty | default('dv', true) }}|{{ nul | default('dv') }}", "dv||dv|dv")]
    [InlineData("{{ (items | first) | string }}{{ (items | last) | string }}|{{ ('xyz' | first) | string }}|{{ (d | items) | string }}|{{ (d | list) | string }}", "13|x|[['b', 1], ['a', 2]]|['b', 'a']")]
    [InlineData("{{ n | string ~ '!' }}|{{ '42' | int + 1 }}|{{ 'x' | int }}|{{ 3.9 | int }}|{{ '2.5' | float }}", "3!|43|0|3|2.5")]
    [InlineData("{{ (msgs | selectattr('role', 'equalto', 'user') | map(attribute='content') | list) | string }}|{{ (msgs | rejectattr('role', 'equalto', 'user') | list | length) | string }}", "['x', 'z']|1")]
    [InlineData("{{ (['a', 'code', 'b'] | reject('equalto', 'code') | join(',')) | string }}|{{ ([0, 1, '', 'x'] | select | list) | string }}", "a,b|[1, 'x']")]
    [InlineData("{{ text | e }}|{{ '<i>' | escape }}|{{ '<i>' | safe }}", "héllo &#34;q&#34;\n\t&lt;b&gt;|&lt;i&gt;|<i>")]
    [InlineData("{{ ([3, 1, 2] | sort | list) | string }}|{{ ([1, 1, 2] | unique | list) | string }}|{{ (items | reverse | list) | string }}|{{ (items | sum) | string }}|{{ (items | max) | string }}", "[1, 2, 3]|[1, 2]|[3, 2, 1]|6|3")]
    [InlineData("{{ ('a\nb' | indent(2)) | string }}|{{ (-3 | abs) | string }}|{{ (2.567 | round(2)) | string }}|{{ (d | dictsort) | string }}", "a\n  b|3|2.57|[['a', 2], ['b', 1]]")]
    public void Render_Filters_Work(string source, string expected) => Assert.Equal(expected, Render(source));

    [Theory]
    [InlineData("{{ tool | tojson }}", "{\"name\": \"get_weather\", \"parameters\": {\"type\": \"object\", \"properties\": {\"city\": {\"type\": \"string\"}}, \"required\": [\"city\"]}}")]
    [InlineData("{{ tool.parameters.required | tojson(indent=2) }}", "[\n  \"city\"\n]")]
    [InlineData("{{ d | tojson(indent=4) }}", "{\n    \"b\": 1,\n    \"a\": 2\n}")]
    [InlineData("{{ {'e': [], 'o': {}} | tojson(indent=2) }}", "{\n  \"e\": [],\n  \"o\": {}\n}")]
    [InlineData("{{ text | tojson }}", "\"héllo \\\"q\\\"\\n\\t<b>\"")]
    [InlineData("{{ text | tojson(ensure_ascii=true) }}", "\"h\\u00e9llo \\\"q\\\"\\n\\t<b>\"")]
    [InlineData("{{ [1, 1.5, true, none, 'x'] | tojson }}", "[1, 1.5, true, null, \"x\"]")]
    [InlineData("{{ [1.0, 0.1, 1e20, 1e-5, 123456789.0] | tojson }}", "[1, 0.1, 1e+20, 1e-05, 1.23457e+08]")]
    [InlineData("{{ d | tojson(sort_keys=true) }}", "{\"a\": 2, \"b\": 1}")]
    [InlineData("{{ {'a': [1, 2]} | tojson(separators=(',', ':')) }}", "{\"a\":[1,2]}")]
    public void Render_ToJson_MatchesLlamaCppFormatting(string source, string expected) => Assert.Equal(expected, Render(source));

    [Theory]
    [InlineData("{{ undefined_var is defined }}{{ n is defined }}{{ nul is defined }}{{ undefined_var is undefined }}", "FalseTrueTrueTrue")]
    [InlineData("{{ nul is none }}{{ undefined_var is none }}{{ n is not none }}", "TrueFalseTrue")]
    [InlineData("{{ s is string }}{{ n is string }}{{ d is mapping }}{{ items is mapping }}", "TrueFalseTrueFalse")]
    [InlineData("{{ s is iterable }}{{ items is iterable }}{{ d is iterable }}{{ n is iterable }}{{ items is sequence }}{{ undefined_var is iterable }}", "TrueTrueFalseFalseTrueTrue")]
    [InlineData("{{ n is number }}{{ f is number }}{{ t is number }}{{ n is integer }}{{ f is float }}{{ t is boolean }}", "TrueTrueFalseTrueTrueTrue")]
    [InlineData("{{ t is true }}{{ t is false }}{{ 1 is true }}{{ n is equalto 3 }}{{ n is equalto(4) }}{{ n is odd }}{{ 4 is even }}{{ 9 is divisibleby 3 }}", "TrueFalseFalseTrueFalseTrueTrueTrue")]
    [InlineData("{{ not undefined_var is defined }}|{{ 'a' if undefined_var is defined else 'b' }}", "True|b")]
    public void Render_Tests_Work(string source, string expected) => Assert.Equal(expected, Render(source));

    [Theory]
    [InlineData("{{ s.strip() }}|{{ s.lstrip() }}|{{ s.rstrip() }}|{{ 'xxhixx'.strip('x') }}", "Hi there|Hi there | Hi there|hi")]
    [InlineData("{{ ('a,b,,c'.split(',')) | string }}|{{ (' a  b '.split()) | string }}|{{ ('a,b,c'.split(',', 1)) | string }}|{{ ('x</think>y'.split('</think>')[-1]) | string }}", "['a', 'b', '', 'c']|['a', 'b']|['a', 'b,c']|y")]
    [InlineData("{{ 'hello'.startswith('he') }}{{ 'hello'.endswith('lo') }}{{ 'hello'.startswith(('x', 'h')) }}", "TrueTrueTrue")]
    [InlineData("{{ 'aXa'.replace('a', 'b') }}|{{ 'Hi'.upper() }}{{ 'Hi'.lower() }}|{{ 'ab cd'.title() }}|{{ '/'.join(['a', 'b']) }}", "bXb|HIhi|Ab Cd|a/b")]
    [InlineData("{% for k, v in d.items() %}{{ (k) | string }}={{ (v) | string }};{% endfor %}|{{ (d.keys() | list) | string }}|{{ (d.values() | list) | string }}", "b=1;a=2;|['b', 'a']|[1, 2]")]
    [InlineData("{{ d.get('a') }}|{{ d.get('zz') }}|{{ d.get('zz', 'dflt') }}|{{ msgs[0].get('tool_calls') is none }}", "2||dflt|True")]
    [InlineData("{{ '{} and {}'.format('a', 1) }}|{{ '{1}{0}'.format('a', 'b') }}|{{ '{x}!{{}}'.format(x=n) }}|{{ '%s=%d%%' | format('k', 2.7) }}", "a and 1|ba|3!{}|k=2%")]
    [InlineData("{{ ('a.b.c'.rsplit('.', 1)) | string }}|{{ ('a\nb\r\nc\n'.splitlines()) | string }}|{{ (''.splitlines()) | string }}", "['a.b', 'c']|['a', 'b', 'c']|[]")]
    [InlineData("{% set l = [1] %}{% set _ = l.append(2) %}{% do l.append(3) %}{{ (l) | string }}|{{ (l.pop()) | string }}{{ (l) | string }}", "[1, 2, 3]|3[1, 2]")]
    public void Render_Methods_Work(string source, string expected) => Assert.Equal(expected, Render(source));

    [Theory]
    [InlineData("{% for i in items %}{{ loop.index }}{{ loop.index0 }}{{ loop.revindex }}{{ loop.first }}{{ loop.last }}{{ loop.length }};{% endfor %}", "103TrueFalse3;212FalseFalse3;321FalseTrue3;")]
    [InlineData("{% for m in msgs %}{{ loop.previtem.role if loop.previtem else '-' }}>{{ loop.nextitem.role if loop.nextitem is defined else '-' }};{% endfor %}", "->assistant;user>user;assistant>-;")]
    [InlineData("{% for m in msgs if m.role == 'user' %}{{ loop.index }}/{{ loop.length }}:{{ m.content }};{% endfor %}", "1/2:x;2/2:z;")]
    [InlineData("{% for i in [] %}x{% else %}empty{% endfor %}|{% for i in undefined_var %}x{% else %}none{% endfor %}", "empty|none")]
    [InlineData("{% for i in range(5) %}{% if i == 1 %}{% continue %}{% endif %}{% if i == 3 %}{% break %}{% endif %}{{ i }}{% endfor %}", "02")]
    [InlineData("{{ (range(3) | list) | string }}|{{ (range(1, 7, 2) | list) | string }}|{{ (range(3, 0, -1) | list) | string }}", "[0, 1, 2]|[1, 3, 5]|[3, 2, 1]")]
    [InlineData("{% for c in 'ab' %}{{ c }}.{% endfor %}|{% for k in d %}{{ k }}{% endfor %}|{% for a, b in [[1, 2], [3, 4]] %}{{ a + b }}{% endfor %}", "a.b.|ba|37")]
    [InlineData("{% for i in items %}{{ loop.cycle('o', 'e') }}{% endfor %}", "oeo")]
    public void Render_ForLoops_ExposeLoopVariables(string source, string expected) => Assert.Equal(expected, Render(source));

    [Theory]
    [InlineData("{% if n > 5 %}a{% elif n > 2 %}b{% else %}c{% endif %}|{% if empty %}a{% else %}c{% endif %}", "b|c")]
    [InlineData("{% set x = 1 %}{% for i in items %}{% set x = i %}{% endfor %}{{ x }}", "1")]
    [InlineData("{% set ns = namespace(x=1) %}{% for i in items %}{% set ns.x = ns.x + i %}{% endfor %}{{ ns.x }}", "7")]
    [InlineData("{% set ns = namespace() %}{% set ns.found = false %}{% for m in msgs %}{% if m.role == 'assistant' %}{% set ns.found = true %}{% endif %}{% endfor %}{{ ns.found }}", "True")]
    [InlineData("{% if t %}{% set y = 'set in if' %}{% endif %}{{ y }}", "set in if")]
    [InlineData("{% set a, b = 1, 2 %}{{ a }}{{ b }}|{% set msgs = msgs[1:] %}{{ msgs | length }}", "12|2")]
    [InlineData("{% set block %}inner {{ n }}{% endset %}[{{ block }}]", "[inner 3]")]
    [InlineData("{% for i in items %}{% set tmp = i * 10 %}{{ tmp }},{% endfor %}[{{ tmp }}]", "10,20,30,[]")]
    [InlineData("{% for i in items %}{{ prev }}{% set prev = i %}{% endfor %}", "12")]
    public void Render_IfAndSet_FollowJinjaScoping(string source, string expected) => Assert.Equal(expected, Render(source));

    [Theory]
    [InlineData("{% macro greet(name, punct='!') %}Hi {{ name }}{{ punct }}{% endmacro %}{{ greet('Bo') }}|{{ greet('Al', '?') }}|{{ greet(punct='.', name='Cy') }}", "Hi Bo!|Hi Al?|Hi Cy.")]
    [InlineData("{% macro fact(k) %}{% if k <= 1 %}1{% else %}{{ k * (fact(k - 1) | int) }}{% endif %}{% endmacro %}{{ fact(5) }}", "120")]
    [InlineData("{% macro show(x) %} {{ x }} {% endmacro %}[{{ show(n) | trim }}]", "[3]")]
    [InlineData("{% set counter = namespace(v=0) %}{% macro bump() %}{% set counter.v = counter.v + 1 %}{% endmacro %}{{ bump() }}{{ bump() }}{{ counter.v }}", "2")]
    public void Render_Macros_ReturnTheirOutput(string source, string expected) => Assert.Equal(expected, Render(source));

    [Theory]
    [InlineData("a  {{- ' b ' -}}  c", "a b c")]
    [InlineData("a\n  {%- if t %}\n  b\n  {%- endif %}\nc", "a  bc")]
    [InlineData("{% if t %}\nx\n{% endif %}\ny", "x\ny")]
    [InlineData("  {% if t %}x{% endif %}  y", "x  y")]
    [InlineData("a\n    {% if t %}\nb\n    {% endif %}\nc", "a\nb\nc")]
    [InlineData("  {%+ if t %}x{% endif %}", "  x")]
    [InlineData("{% if t %}\n    {% if t %}x{% endif %}\n{% endif %}", "x")]
    [InlineData("{{ 'v' }}    {% if t %}x{% endif %}", "v    x")]
    [InlineData("a\n    {{ 'x' }}\n  {# c #}\nb", "a\n    x\nb")]
    [InlineData("   {{ 'x' }}", "   x")]
    [InlineData("a\r\n{% if t %}\r\nb{% endif %}\rc\r\nd", "a\nbc\nd")]
    [InlineData("a {# comment #} b\n{# line comment #}\nc", "a  b\nc")]
    [InlineData("{{ 'x' }}\n{{ 'y' }}\n", "x\ny")]
    [InlineData("{{ 'x' }}\n\n", "x\n")]
    [InlineData("a {%- if t -%} \n b {%- endif -%} \n c", "abc")]
    public void Render_WhitespaceControl_MatchesTrimAndLstripBlocks(string source, string expected) => Assert.Equal(expected, Render(source));

    [Fact]
    public void Render_StrftimeNowAndDateString_UseTheInjectedClock()
    {
        Assert.Equal(
            "2026-11-23|November 23, 2026|23 Nov 2026|Mon|12:00:00|23 Nov 2026",
            Render("{{ strftime_now('%Y-%m-%d') }}|{{ strftime_now('%B %d, %Y') }}|{{ strftime_now('%d %b %Y') }}|{{ strftime_now('%a') }}|{{ strftime_now('%H:%M:%S') }}|{{ date_string }}"));
    }

    [Fact]
    public void Render_BuiltInVariables_AreDefinedAsLlamaCppDefinesThem()
    {
        var input = new ChatTemplateInput([new JsonObject { ["role"] = "user", ["content"] = "hi" }])
        {
            BosToken = "<B>",
            EosToken = "<E>",
            TimeProvider = FixedTimeProvider.ReferenceDay,
        };
        const string source = "{{ bos_token }}{{ eos_token }}|{{ add_generation_prompt }}|{{ enable_thinking }}|{{ tools is defined }}|{{ messages[0].content }}";

        Assert.Equal("<B><E>|True|True|False|hi", ChatTemplate.Parse(source).Render(input));

        input.AddGenerationPrompt = false;
        input.EnableThinking = null;
        input.Tools = [new JsonObject { ["type"] = "function" }];
        input.Variables["custom"] = "c";
        Assert.Equal("<B><E>|False||True|hi|c", ChatTemplate.Parse(source + "|{{ custom }}").Render(input));
    }

    [Fact]
    public void Render_TokenizerAddsBosAndEos_StripsThemLikeLlamaCpp()
    {
        ChatTemplate template = ChatTemplate.Parse("{{ bos_token }}body{{ eos_token }}");
        var input = new ChatTemplateInput([]) { BosToken = "<s>", EosToken = "</s>" };

        Assert.Equal("<s>body</s>", template.Render(input));
        input.TokenizerAddsBos = true;
        input.TokenizerAddsEos = true;
        Assert.Equal("body", template.Render(input));
    }

    [Fact]
    public void Render_RaiseException_ThrowsWithTheTemplatesMessage()
    {
        ChatTemplateException e = Assert.Throws<ChatTemplateException>(() =>
            Render("line one\n{% if t %}\n  {{ raise_exception('Conversation roles must alternate!') }}\n{% endif %}"));

        Assert.Equal("Conversation roles must alternate!", e.Message);
        Assert.True(e.IsRaisedByTemplate);
        Assert.Equal(3, e.Line);
        Assert.Equal(6, e.Column);
    }

    [Theory]
    [InlineData("{{ 1 + }}", 1, 8)]
    [InlineData("ok\n{% if x %}\nnever closed", 2, 1)]
    [InlineData("{% for x in %}{% endfor %}", 1, 13)]
    [InlineData("{% endif %}", 1, 4)]
    [InlineData("a\n{{ 'unterminated }}", 2, 4)]
    [InlineData("{# never closed", 1, 1)]
    [InlineData("{{ x", 1, 5)]
    [InlineData("{% raw %}x{% endraw %}", 1, 4)]
    [InlineData("{% for x in y recursive %}{% endfor %}", 1, 15)]
    [InlineData("{{ a ; b }}", 1, 6)]
    public void Parse_SyntaxError_ThrowsWithLineAndColumn(string source, int line, int column)
    {
        ChatTemplateException e = Assert.Throws<ChatTemplateException>(() => ChatTemplate.Parse(source));

        Assert.False(e.IsRaisedByTemplate);
        Assert.Equal(line, e.Line);
        Assert.Equal(column, e.Column);
        Assert.Contains($"line {line}, column {column}", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("{{ items | frobnicate }}", "Unsupported filter 'frobnicate'")]
    [InlineData("{{ n is frobnicated }}", "Unsupported test 'frobnicated'")]
    [InlineData("{{ s.frobnicate() }}", "Unsupported string method 'frobnicate'")]
    [InlineData("{{ undefined_fn() }}", "'undefined_fn' is undefined")]
    [InlineData("{{ n + 'x' + items }}", "3x[1, 2, 3]")]
    [InlineData("{{ items - 1 }}", "Unsupported operand types for '-'")]
    [InlineData("{{ 1 // 0 }}", "Division by zero")]
    [InlineData("{{ n < 'a' }}", "Cannot compare integer with string")]
    [InlineData("{% for x in 5 %}{% endfor %}", "not iterable")]
    [InlineData("{{ d | tojson(bogus=1) }}", "unsupported keyword argument 'bogus'")]
    [InlineData("{% set n.x = 1 %}", "is not a namespace")]
    public void Render_UnsupportedOrInvalidOperation_ThrowsNamedError(string source, string expectedFragment)
    {
        if (!expectedFragment.StartsWith('3'))
        {
            ChatTemplateException e = Assert.Throws<ChatTemplateException>(() => Render(source));
            Assert.Contains(expectedFragment, e.Message, StringComparison.Ordinal);
            Assert.Equal(1, e.Line);
            Assert.NotNull(e.Column);
            return;
        }

        // Adding to a string concatenates string forms, as llama.cpp does.
        Assert.Equal(expectedFragment, Render(source));
    }

    [Fact]
    public void Render_RuntimeError_ReportsThePositionOfTheFailingExpression()
    {
        ChatTemplateException e = Assert.Throws<ChatTemplateException>(() => Render("first\nsecond {{ 1 + 1 }} and {{ items | frobnicate }}"));

        Assert.Equal(2, e.Line);
        Assert.Equal(33, e.Column); // the '|' of the failing filter
    }

    [Fact]
    public void Parse_PathologicalNesting_ThrowsInsteadOfOverflowingTheStack()
    {
        string deep = "{{ " + new string('(', 50_000) + "1" + new string(')', 50_000) + " }}";
        string blocks = string.Concat(Enumerable.Repeat("{% if true %}", 50_000)) + string.Concat(Enumerable.Repeat("{% endif %}", 50_000));

        Assert.Contains("nested too deeply", Assert.Throws<ChatTemplateException>(() => ChatTemplate.Parse(deep)).Message, StringComparison.Ordinal);
        Assert.Contains("nested too deeply", Assert.Throws<ChatTemplateException>(() => ChatTemplate.Parse(blocks)).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Render_UnboundedMacroRecursion_ThrowsChatTemplateException()
    {
        ChatTemplateException e = Assert.Throws<ChatTemplateException>(() => Render("{% macro f(n) %}{{ f(n + 1) }}{% endmacro %}{{ f(0) }}"));

        Assert.Contains("recursion", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Render_ManyThreads_ShareOneCompiledTemplate()
    {
        ChatTemplate template = ChatTemplate.Parse(
            "{% set ns = namespace(total=0) %}{% for m in messages %}{% set ns.total = ns.total + m.content | int %}{% endfor %}{{ ns.total }}");
        string[] results = new string[64];

        Parallel.For(0, results.Length, i =>
        {
            var messages = new JsonArray();
            for (int k = 0; k <= i; k++)
            {
                messages.Add(new JsonObject { ["role"] = "user", ["content"] = k.ToString(System.Globalization.CultureInfo.InvariantCulture) });
            }

            results[i] = template.Render(new ChatTemplateInput(messages));
        });

        for (int i = 0; i < results.Length; i++)
        {
            Assert.Equal((i * (i + 1) / 2).ToString(System.Globalization.CultureInfo.InvariantCulture), results[i]);
        }
    }

    [Fact]
    public void Render_JsonBuiltFromClrValues_ConvertsToTemplateValues()
    {
        var messages = new JsonArray(new JsonObject
        {
            ["role"] = "user",
            ["content"] = JsonValue.Create(new DateTime(2026, 11, 23, 0, 0, 0, DateTimeKind.Utc)),
            ["n"] = JsonValue.Create(3),
            ["f"] = JsonValue.Create(2.5),
            ["b"] = JsonValue.Create(true),
        });

        string rendered = ChatTemplate.Parse("{% set m = messages[0] %}{{ m.content }}|{{ m.n + 1 }}|{{ m.f * 2 }}|{{ m.b }}").Render(new ChatTemplateInput(messages));

        Assert.Equal("2026-11-23T00:00:00Z|4|5.0|True", rendered);
    }

    [Fact]
    public void Render_NullArguments_ThrowArgumentExceptions()
    {
        ChatTemplate template = ChatTemplate.Parse("x");

        Assert.Throws<ArgumentNullException>(() => template.Render(null!));
        Assert.Throws<ArgumentNullException>(() => ChatTemplate.Parse(null!));
        Assert.Throws<ArgumentNullException>(() => new ChatTemplateInput(null!));
        Assert.Throws<ArgumentException>(() => template.Render(new ChatTemplateInput([]) { TimeProvider = null! }));
    }

    [Fact]
    public void Render_DoesNotModifyTheCallersMessages()
    {
        ChatTemplate template = ChatTemplate.Parse("{% set _ = messages.append({'role': 'x'}) %}{% set m = messages[0] %}{% set _ = m.update(content='changed') %}{{ messages | length }}");
        var messages = new JsonArray(new JsonObject { ["role"] = "user", ["content"] = "original" });

        Assert.Equal("2", template.Render(new ChatTemplateInput(messages)));
        Assert.Single(messages);
        Assert.Equal("original", messages[0]!["content"]!.GetValue<string>());
    }
}
